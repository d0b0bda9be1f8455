// Package docscheck holds only tests: they keep the repository's Markdown
// honest. The README stays short enough to read in ten minutes (the detail
// lives in docs/ and CONTRIBUTING.md), and every relative link in the
// README, CONTRIBUTING.md and docs/*.md points at a file that exists and,
// for a #anchor into Markdown, at a heading that exists: moving a section
// must not leave dead links behind. The README also links every doc, as
// the index of the documentation. It imports nothing from samlflex.
package docscheck
