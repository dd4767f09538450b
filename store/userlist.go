package store

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The user list journal keeps `list users` fast for very large accounts: reading 100,000 JWTs
// to learn their subjects takes seconds, reading one journal takes milliseconds.
//
// <op>/.signet/users/<account>.log holds lines "+name pub" and "-name", each batch ending with
// "@stamp", the users folder's modification time after the change. The journal is trusted only
// when its last stamp equals the folder's current one, so any change made behind signet's back
// (nsc adding, deleting or re-creating a user) makes it stale and the next listing reads every
// JWT again and rewrites it. Saves and deletes append in O(1), and only to a journal that was
// current before their own change. nsc editing a user in place keeps its key, so it cannot make
// a journal wrong without also changing the folder. (The folder's time has the kernel's clock
// granularity, a few milliseconds: a user deleted and re-created by hand within one tick of a
// signet listing would keep its old key in the listing until the folder changes again.)

func (s *Store) usersJournalPath(account string) string {
	return filepath.Join(s.Dir, signetDir, "users", account+".log")
}

// usersStamp identifies the state of an account's users folder.
func (s *Store) usersStamp(account string) string {
	st, err := os.Stat(filepath.Join(s.AccountDir(account), usersDir))
	if err != nil {
		return ""
	}
	return strconv.FormatInt(st.ModTime().UnixNano(), 10)
}

// journalUserChange appends one change to the journal if the journal described the folder as
// it was before the change (before); otherwise it removes the journal, which is then stale.
func (s *Store) journalUserChange(account, before, line string) {
	p := s.usersJournalPath(account)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return // no journal: the next listing builds one
	}
	defer f.Close()
	after := s.usersStamp(account)
	if before == "" || after == "" || lastStamp(f) != before {
		_ = os.Remove(p)
		return
	}
	if _, err := f.WriteString(line + "\n@" + after + "\n"); err != nil {
		_ = os.Remove(p)
	}
}

// lastStamp reads the stamp on the journal's last complete line.
func lastStamp(f *os.File) string {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return ""
	}
	n := min(st.Size(), 64)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, st.Size()-n); err != nil {
		return ""
	}
	if buf[len(buf)-1] != '\n' {
		return ""
	}
	buf = buf[:len(buf)-1]
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	} else if n < st.Size() {
		return "" // the last line is longer than any stamp line
	}
	if len(buf) < 2 || buf[0] != '@' {
		return ""
	}
	return string(buf[1:])
}

// readUsersJournal replays the journal if it is current.
func (s *Store) readUsersJournal(account string) (map[string]string, bool) {
	stamp := s.usersStamp(account)
	if stamp == "" {
		return nil, false
	}
	data, err := os.ReadFile(s.usersJournalPath(account))
	if err != nil {
		return nil, false
	}
	m := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		switch line[0] {
		case '+':
			name, pub, ok := strings.Cut(line[1:], " ")
			if !ok {
				return nil, false
			}
			m[name] = pub
		case '-':
			delete(m, line[1:])
		case '@':
			last = line[1:]
		default:
			return nil, false
		}
	}
	if sc.Err() != nil || last != stamp {
		return nil, false
	}
	return m, true
}

// writeUsersJournal replaces the journal with a complete listing taken at stamp.
func (s *Store) writeUsersJournal(account, stamp string, users []NamedKey) error {
	if stamp == "" {
		return errors.New("no stamp")
	}
	var b strings.Builder
	b.Grow(len(users) * 72)
	for _, u := range users {
		b.WriteString("+" + u.Name + " " + u.PublicKey + "\n")
	}
	b.WriteString("@" + stamp + "\n")
	return writeFileAtomic(s.usersJournalPath(account), []byte(b.String()), 0o644, 0o755, false)
}
