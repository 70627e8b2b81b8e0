package secrets

// What the external tests of this package reach that is not exported.

// MaskedForms is how many forms Mask replaces now: those registered for
// good and those a lease holds.
func MaskedForms() int {
	st := defaultMasker.state.Load()
	if st == nil {
		return 0
	}
	return len(st.values)
}

// WithPromptTerminal prompts on in, a terminal, writing the question to
// out: the prompt of an external test, with an Environment's options.
var WithPromptTerminal = withPromptTerminal
