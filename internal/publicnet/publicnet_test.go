package publicnet

import (
	"net/netip"
	"testing"
)

// TestPrivateAddr holds PrivateAddr to Python 3.11's ipaddress is_private,
// the values python3 printed for these addresses.
func TestPrivateAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": false, "10.1.2.3": true, "127.0.0.1": true, "169.254.169.254": true, "172.16.0.1": true,
		"172.32.0.1": false, "192.168.1.1": true, "100.64.0.1": false, "0.0.0.0": true, "192.0.0.7": true,
		"192.0.0.8": false, "192.0.0.171": true, "192.0.0.172": false, "192.0.2.5": true, "198.18.0.1": true,
		"198.51.100.1": true, "203.0.113.9": true, "240.0.0.1": true, "255.255.255.255": true,
		"::1": true, "::": true, "::2": false, "::ffff:8.8.8.8": false, "::ffff:10.0.0.1": true, "fc00::1": true,
		"fd12::1": true, "fe80::1": true, "fec0::1": false, "2001:db8::1": true, "2001::1": true, "2001:1ff::1": true,
		"2001:200::1": false, "2606:4700:4700::1111": false, "2002::1": false, "64:ff9b::8.8.8.8": false,
		"100::1": true, "100:0:0:1::1": false,
	} {
		if got := PrivateAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PrivateAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}
