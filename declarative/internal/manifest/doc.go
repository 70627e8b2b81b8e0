// Package manifest loads Airbyte low-code (declarative) manifests exactly as
// the Python CDK 6.31.1 prepares them, before any component is built.
//
// [Load] takes the manifest.yaml text and
//
//   - parses YAML into ordered values ([Map] keeps key order, as Python's
//     dict does; values are nil, bool, int64, float64, string, []any, *Map);
//   - resolves references: a string "#/a/b" anywhere is replaced by what it
//     points at, and a mapping with "$ref" is the referenced mapping updated
//     with its own keys (the CDK's ManifestReferenceResolver, including its
//     rule that "a/b" is tried as a whole key before as a path);
//   - fills in the type the CDK assumes for a component that leaves it out
//     (a requester's error_handler is a DefaultErrorHandler, a record
//     selector's extractor a DpathExtractor, ...);
//   - pushes $parameters down into every nested component, where they fill
//     fields that are absent or falsy (the CDK's ManifestComponentTransformer);
//   - lists what only CDKs newer than 6.31.1 know ([Manifest].Newer: the
//     component types and fields CDK 7.28.2 added, but for those the engine
//     runs), validates the result against the CDK's component schema
//     (embedded, declarative_component_schema.yaml of CDK 6.31.1, with an
//     HttpRequester's url added and its url_base and path made optional,
//     and CDK 7.28.2's definitions of config_normalization_rules,
//     StateDelegatingStream among the streams and api_budget added from
//     newer_schema.yaml, as in CDK 7.28.2) and checks that the manifest
//     version is 0.29 or later,
//     with errors naming the JSON path at fault. A manifest the 6.31.1
//     schema fails because it uses newer parts is a [NewerError] naming
//     them.
//
// The result, [Manifest].Root, is what the engine in package declarative
// builds its components from. [Manifest.Components] lists every component
// with its path, which is how unsupported components (Custom*, Python
// class names) are found before the first request.
package manifest
