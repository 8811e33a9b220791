// Package prefetch asks the processor to start loading a cache line that
// will be read soon, without waiting for it: a hint, with no effect on what
// a program computes.
package prefetch
