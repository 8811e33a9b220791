package statespace

import "github.com/stormproof/stormproof/model"

// perm is one automorphism of a configuration: a renaming of cameras and
// accounts that maps the initial world, the fault menu and the routing onto
// themselves, so it maps reachable states to reachable states.
type perm struct {
	camOrder  []model.DeviceID  // new index i is old camera camOrder[i]
	camNew    []int             // old camera → new index
	acctNew   []model.AccountID // old account → new id
	acctOrder []int             // new account j is old account acctOrder[j]
	identity  bool
	// chOf[i] is the channel whose contents the renamed state has as channel
	// i; chPos is its inverse (set by setChannels).
	chOf, chPos []uint8
}

// setChannels computes where p moves each of l's channels.
func (p *perm) setChannels(l *layout) {
	p.chOf, p.chPos = make([]uint8, l.nChan), make([]uint8, l.nChan)
	for i := 0; i < l.nChan; i++ {
		ch := i
		switch def := &l.chans[i]; def.perm {
		case 1:
			ch = i - def.idx + int(p.camOrder[def.idx])
		case 2:
			ch = i - def.idx + p.acctOrder[def.idx]
		}
		p.chOf[i], p.chPos[ch] = uint8(ch), uint8(i)
	}
}

// symmetries enumerates the automorphisms of the configuration's ownership
// structure and profiles, identity first. Cameras may be exchanged when
// they have the same profile, clips and worker, and their owner sets are
// exchanged by the account renaming (elementwise, order kept). Cameras and
// accounts that a transfer names are kept fixed, so the fault menu is
// mapped onto itself.
func symmetries(p *model.Params, f *model.Fleet, transfers []model.Fault, enabled bool) []perm {
	n, m := len(f.Devices), f.Accounts
	id := perm{identity: true}
	for i := 0; i < n; i++ {
		id.camOrder = append(id.camOrder, model.DeviceID(i))
		id.camNew = append(id.camNew, i)
	}
	for a := 0; a < m; a++ {
		id.acctNew = append(id.acctNew, model.AccountID(a))
		id.acctOrder = append(id.acctOrder, a)
	}
	out := []perm{id}
	if !enabled {
		return out
	}
	fixedCam := make([]bool, n)
	fixedAcct := make([]bool, m)
	for _, t := range transfers {
		fixedCam[t.Device] = true
		for _, a := range t.Owners.IDs[:t.Owners.N] {
			fixedAcct[a] = true
		}
		for _, a := range f.Devices[t.Device].Owners.IDs[:f.Devices[t.Device].Owners.N] {
			fixedAcct[a] = true
		}
	}
	// Every permutation of the accounts (at most 6! = 720).
	tau := make([]int, m)
	for i := range tau {
		tau[i] = i
	}
	used := make([]bool, n)
	sigma := make([]int, n) // old camera → new camera
	var camSearch func(d int, acct []model.AccountID)
	camSearch = func(d int, acct []model.AccountID) {
		if d == n {
			q := perm{camOrder: make([]model.DeviceID, n), camNew: append([]int(nil), sigma...),
				acctNew: append([]model.AccountID(nil), acct...), acctOrder: make([]int, m)}
			same := true
			for old, nw := range sigma {
				q.camOrder[nw] = model.DeviceID(old)
				same = same && old == nw
			}
			for old, nw := range acct {
				q.acctOrder[nw] = old
				same = same && old == int(nw)
			}
			if !same {
				out = append(out, q)
			}
			return
		}
		for e := 0; e < n; e++ {
			if used[e] || (fixedCam[d] && e != d) || (fixedCam[e] && e != d) || !camMatch(p, f, d, e, acct) {
				continue
			}
			used[e] = true
			sigma[d] = e
			camSearch(d+1, acct)
			used[e] = false
		}
	}
	var acctPerms func(k int)
	acctPerms = func(k int) {
		if k == m {
			acct := make([]model.AccountID, m)
			for a := range tau {
				acct[a] = model.AccountID(tau[a])
			}
			camSearch(0, acct)
			return
		}
		for i := k; i < m; i++ {
			tau[k], tau[i] = tau[i], tau[k]
			if !fixedAcct[k] || tau[k] == k {
				acctPerms(k + 1)
			}
			tau[k], tau[i] = tau[i], tau[k]
		}
	}
	acctPerms(0)
	return out
}

// camMatch reports whether camera d may become camera e under the account
// renaming acct.
func camMatch(p *model.Params, f *model.Fleet, d, e int, acct []model.AccountID) bool {
	a, b := f.Devices[d], f.Devices[e]
	if a.Profile != b.Profile || a.Video != b.Video || d%p.Workers != e%p.Workers || a.Owners.N != b.Owners.N {
		return false
	}
	for i := uint8(0); i < a.Owners.N; i++ {
		if acct[a.Owners.IDs[i]] != b.Owners.IDs[i] {
			return false
		}
	}
	return true
}
