// Package masklease lets goairbyte's own packages mask a value for a while
// rather than for good. secrets.Register never forgets a value, which is
// right for a configured secret (it may be printed at any time) but not for
// an access token renewed every few minutes: registered for good, a day of
// them adds thousands of forms to the masked set, and every registration
// and every masked line pays for them. Such a token is held while it may be
// printed and released after.
//
// The masker lives in package secrets. Rather than give secrets an exported
// name that users would see, this internal package is the door to it:
// secrets fills it in when it is initialised (as database/sql drivers
// register themselves). A caller imports secrets too — it needs Mask and
// SecretString anyway — so secrets has been initialised before any call.
package masklease

// hold is the masker's lease, set once by package secrets' init.
var hold func(values []string) (release func())

// Provide installs the function that [Hold] calls. Package secrets calls it
// from its init; nothing else does.
func Provide(f func(values []string) (release func())) { hold = f }

// Hold registers values for masking, in every form secrets.Register does,
// until release is called. Release stops masking a form only when no other
// live Hold holds it and secrets.Register has not registered it for good.
// Calling release more than once is the same as calling it once.
func Hold(values ...string) (release func()) {
	if hold == nil {
		panic("masklease: Hold called before package secrets was initialised; import it")
	}
	return hold(values)
}
