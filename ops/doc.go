// Package ops holds the operations every signet front end shares: the CLI, signet dev, signet
// serve's signing mode, auth as code and the console. It prints nothing and parses no flags;
// it works on the store, the keystore and jwt/v2 claims, and reaches the network only in the
// operations that are about it (Push, Pull), never as a side effect of a change.
//
// Each operation takes the store, the keystore and a typed request, does the whole job
// (validation, the signer chosen by Signer, the iat rule, the writes) and returns a typed
// result: AddOperator (on the stores folder: its store does not exist yet), EditOperator,
// CreateSystemAccount, AddUser, EditUser, DeleteUser, RevokeUser, ClearUserRevocation, AddAccount,
// DeleteAccount, EditAccount, UpdateAccount, EditSigningKey, RotateSigningKey (its journal makes
// an interrupted rotation resumable), AddExport, EditExport, DeleteExport, AddImport,
// DeleteImport, GenerateActivation, RevokeActivation, ClearActivationRevocation, AddMapping,
// DeleteMapping, Push, Pull, SaveTrusted. The function of that name
// takes the store's lock for its duration; the method of the same name on Locked runs inside a
// locked step the caller holds (Lock, Held), so that several operations compose under one lock.
// A failed check leaves the store and keystore as they were.
//
// Beneath them is the one rule that decides which key signs an entity (Signer), and the
// signing of operators, accounts and users that every change goes through; beside it, the one
// rule, nats-server's, for how the server reads a stored user (IsBearerUser, UserScope), which
// the commands that sign, validate and the console share.
package ops
