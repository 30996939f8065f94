// Package modset handles Strata's modules as one release set: it reads the
// go.work workspace, checks that every intra-repo requirement names the
// same real version and carries a relative replace, bumps that version,
// builds module zips from the working tree (golang.org/x/mod/zip), writes a
// file-based GOPROXY of them, and performs a release (one commit, one tag
// per module, as opentelemetry-go does).
//
// # The version of the set
//
// Every go.mod requires its siblings at one version (v0.1.0, ...) and
// replaces them with the relative directory (replace ../codec), so that:
//
//   - in the repository, builds use the working tree (go.work, and the
//     replaces when GOWORK=off), and nothing under the module path prefix
//     is ever fetched from a proxy;
//   - a consumer's build ignores our replace directives and resolves the
//     required versions, i.e. the tags that [Release] creates.
//
// [Set.Version] is that one version; [Set.Check] reports any requirement
// that names another, or lacks its replace.
//
// # Published modules and commands
//
// The modules that users go get are published: every workspace module but
// the development ones (integration, tools). The test kit (testkit,
// testkit/rediskit) is published too: the tier modules' go.mod files
// require it for their tests, so a build of them must be able to resolve
// it, although no library code imports it. A published module whose root
// package is a command (package main) is installed with go install
// pkg@version, which refuses a go.mod with replace directives; its tagged
// go.mod therefore drops the intra-repo replaces and its go.sum gains the
// hashes of the sibling modules at the release version (the "release form",
// [Set.ReleaseForm]), the way gopls is released, so that the tagged module
// also builds as a main module (go install pkg@version itself verifies
// downloads with the checksum database, not with that go.sum). The commit
// after the release tag restores the development form.
//
// # The proxy
//
// [WriteProxy] lays out the published modules at one version in the
// GOPROXY file layout (path/@v/list, .info, .mod, .zip), commands in their
// release form, so that an outside module can be built and the CLI
// installed exactly as they will be once the tags are pushed. See the
// install-check subcommand of tools/cmd/modset.
package modset
