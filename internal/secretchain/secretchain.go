// Package secretchain lets goairbyte's own packages ask package secrets for
// a chain of the given managers only, without the process's built-in
// sources (environment variables, the .env file, the prompt): the chain of
// an Environment made by connector.NewEnvironment, a tenant's, which must
// not read the server's variables.
//
// The option is made in package secrets. Rather than give secrets an
// exported name that users would see, this internal package is the door to
// it, as internal/masklease is to the masker: secrets fills it in when it is
// initialised. A caller imports secrets too — it needs the option's type —
// so secrets has been initialised before any call.
package secretchain

// managersOnly is a secrets.Option, set once by package secrets' init.
var managersOnly any

// Provide installs the option that [ManagersOnly] returns. Package secrets
// calls it from its init; nothing else does.
func Provide(opt any) { managersOnly = opt }

// ManagersOnly returns the option, O being secrets.Option, that makes a
// GetSecret or ResolveReferences call ask the managers given with
// WithManager and no built-in source; a secret none of them has is a
// SecretNotFoundError saying so.
func ManagersOnly[O any]() O {
	if managersOnly == nil {
		panic("secretchain: ManagersOnly called before package secrets was initialised; import it")
	}
	return managersOnly.(O)
}
