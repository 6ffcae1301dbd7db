// Package readme_test compiles the README's Go snippets, so that they stay true: every
// ```go block of README.md must appear, line for line (indentation aside), in one of this
// directory's files, which the compiler checks. The snippets are compiled, not run; the
// names they take for granted (bot, store, verifyJWT, ...) are declared in scaffold_test.go.
package readme_test
