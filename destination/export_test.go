package destination

// What the external tests of this package reach that is not exported.

const StateInterval = stateInterval

type WriteError = writeError

// StateProvider reads the destination's stored state; nil without a state
// cache.
func (r *WriteResult) StateProvider() *stateProvider { return r.state }
