// Package version is stormproof's version, written into every trace header.
package version

// Version is the tool version. It is a constant, not build metadata, so a
// trace does not depend on how the binary was built.
const Version = "stormproof 0.1.0"
