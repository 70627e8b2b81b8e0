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

// Registry splits an image reference into its registry host and the
// reference within it, as Docker reads it: the first component is a host
// when it has a dot or a colon or is localhost, else the image is on
// Docker Hub (docker.io).
func Registry(image string) (host, rest string) {
	first, after, ok := strings.Cut(image, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, after
	}
	return "docker.io", image
}
