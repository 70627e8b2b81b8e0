// Package imagetest checks the Docker images of goairbyte's own connectors:
// it builds goairbyte/source-faker and goairbyte/destination-local-json from
// this checkout (through internal/testenv, with the Dockerfiles in docker/)
// and runs the Airbyte commands inside real containers — spec, check,
// discover and read of the faker, and write of the destination fed with the
// faker's output — checking what comes out, file by file.
//
// It has no code of its own besides its tests.
package imagetest
