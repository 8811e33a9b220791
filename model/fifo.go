package model

// Queues of the model (the cache server's requests, a worker's waiting
// requests, a connection's unread replies) are slices used as FIFOs. Taking
// from the front with q = q[1:] gives up the front's capacity for good, so
// a queue that never empties would reallocate every few appends, on the
// engine's hottest path. These helpers keep a queue's array: a short queue is
// shifted down, a long one grows to twice its length. (The model stays pure,
// so not hugepage.Grow, whose madvise is a system call.)

// fifoShift is the length up to which popFront shifts the queue down
// rather than giving up the front slot.
const fifoShift = 32

// pushBack appends x to q.
func pushBack[T any](q []T, x T) []T {
	if len(q) == cap(q) {
		n := make([]T, len(q), 2*len(q)+8)
		copy(n, q)
		q = n
	}
	return append(q, x)
}

// popFront removes and returns q's first element; q must not be empty.
func popFront[T any](q []T) (T, []T) {
	var zero T
	x := q[0]
	if len(q) <= fifoShift {
		copy(q, q[1:])
		q[len(q)-1] = zero
		return x, q[:len(q)-1]
	}
	q[0] = zero
	return x, q[1:]
}
