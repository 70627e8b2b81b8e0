package destination

// What the external tests of this package reach that is not exported.

const StateInterval = stateInterval

type WriteError = writeError
