package cmdutil

import "fmt"

// ExitError ends the process with Code after the command has printed its own report.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }
