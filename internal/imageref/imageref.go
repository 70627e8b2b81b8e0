// Package imageref reads Docker image references, for package executor
// (the tag a Docker connector reports as its version) and package connector
// (whether an image given or found in the registry has a tag).
package imageref

import "strings"

// Tag returns the tag of an image reference, "" when it has none. A colon
// before the last slash belongs to a registry host:port, and a digest
// (@sha256:…) is not a tag.
func Tag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		return last[i+1:]
	}
	return ""
}
