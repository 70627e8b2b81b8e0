package connector

// What the external tests of this package reach that is not exported.

var ErrNoDefaultCache = errNoDefaultCache
