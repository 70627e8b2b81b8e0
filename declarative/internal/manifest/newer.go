package manifest

import (
	"reflect"
	"strconv"
)

// The component types and fields that the Python CDK added after 6.31.1, up
// to 7.28.2 (airbytehq/airbyte-python-cdk, tag v7.28.2, commit 9cc7b80:
// airbyte_cdk/sources/declarative/declarative_component_schema.yaml,
// compared definition by definition with the 6.31.1 schema embedded here).
// Each one listed changes what a connector requests, reads or emits (the
// one field left out, DynamicDeclarativeStream's name, only names it), so
// a manifest that uses one is refused rather than run as CDK 6.31.1 would
// run it, without it. A field that no CDK
// knows is ignored, as both CDKs ignore it.

// newerTypes are the component types of CDK 7.28.2 that CDK 6.31.1 lacks,
// but for those the engine runs: the config normalization rules', the
// api_budget's and a StateDelegatingStream among the manifest's streams (see
// newer_schema.yaml; as a parent stream it is listed, by newerComponents).
var newerTypes = map[string]bool{
	"BlockSimultaneousSyncsAction": true, "ConditionalStreams": true, "CsvDecoder": true,
	"DynamicStreamCheckConfig": true, "GroupByKeyMergeStrategy": true, "GroupingPartitionRouter": true,
	"GzipDecoder": true, "IncrementingCountCursor": true, "JsonItemsDecoder": true,
	"JsonSchemaPropertySelector": true, "KeyTransformation": true,
	"PaginationReset": true, "PaginationResetLimits": true,
	"ParametrizedComponentsResolver": true, "PropertiesFromEndpoint": true,
	"PropertyChunking": true, "QueryProperties": true, "QuotaStatusSource": true,
	"RateLimitedMultipleTokenAuthenticator": true, "RecordExpander": true, "RequestBodyGraphQL": true,
	"RequestBodyGraphQlQuery": true, "RequestBodyJsonObject": true, "RequestBodyPlainText": true,
	"RequestBodyUrlEncodedForm": true, "StreamGroup": true,
	"StreamParametersDefinition": true, "TokenQuota": true, "UnionPartitionRouter": true,
}

// newerFields are the fields CDK 7.28.2 added to component types CDK
// 6.31.1 has; "DeclarativeSource" is the manifest's top level.
var newerFields = map[string][]string{
	"DeclarativeSource":                      {"max_concurrent_async_job_count", "stream_groups"},
	"AddFields":                              {"condition"},
	"AsyncJobStatusMap":                      {"skipped"},
	"AsyncRetriever":                         {"download_target_extractor", "download_target_requester", "failed_retry_wait_time_in_seconds", "polling_job_timeout"},
	"CheckDynamicStream":                     {"config_overrides"},
	"CheckStream":                            {"config_overrides", "dynamic_streams_check_configs"},
	"ComponentMappingDefinition":             {"condition", "create_or_update"},
	"ConstantBackoffStrategy":                {"jitter_range_in_seconds"},
	"DatetimeBasedCursor":                    {"allow_catalog_defined_cursor_field"},
	"DeclarativeStream":                      {"file_uploader"},
	"DpathExtractor":                         {"record_expander"},
	"DpathFlattenFields":                     {"key_transformation", "replace_record"},
	"DynamicDeclarativeStream":               {"use_parent_parameters"}, // and name, which only names it
	"DynamicSchemaLoader":                    {"schema_filter"},
	"ExponentialBackoffStrategy":             {"jitter_range_in_seconds"},
	"HttpRequester":                          {"fetch_properties_from_endpoint", "query_properties", "request_body", "url"},
	"JwtAuthenticator":                       {"passphrase", "request_option"},
	"OAuthAuthenticator":                     {"refresh_token_error_key", "refresh_token_error_status_codes", "refresh_token_error_values", "send_refresh_request_as_query_params"},
	"ParentStreamConfig":                     {"lazy_read_pointer"},
	"RecordSelector":                         {"transform_before_filtering"},
	"RequestOption":                          {"field_path"},
	"ResponseToFileExtractor":                {"preserve_na_values"},
	"SessionTokenRequestApiKeyAuthenticator": {"api_token"},
	"SimpleRetriever":                        {"pagination_reset"},
	"StreamConfig":                           {"default_values"},
	"WaitUntilTimeFromHeader":                {"max_waiting_time_in_seconds"},
	"ZipfileDecoder":                         {"decoder"},
}

// NewerCDK is the note the type of every component or field of a newer
// CDK carries, after its name.
const NewerCDK = "(added to the CDK after 6.31.1)"

// newerComponents lists, in document order, every component whose type
// and every field (set, not null) that only CDKs newer than 6.31.1 know,
// in a prepared manifest: the type of each is its type, or its type and
// the field's name, followed by NewerCDK. JSON schemas and $parameters
// are not descended into. A field a parameter filled (source-workable's
// $parameters.field_path reaches its RequestOptions) is not listed: CDK
// 6.31.1 ignores it, and so does the engine.
func newerComponents(root *Map) []Component {
	var out []Component
	note := func(path []string, typ, field string, n *Map) {
		c := Component{Path: jsonPath(path), Type: typ + " " + NewerCDK, Node: n}
		if field != "" {
			c.Path += "." + field
			c.Type = typ + " " + field + " " + NewerCDK
		}
		out = append(out, c)
	}
	// fields notes the newer fields n sets and returns them, so that
	// what they hold is not listed again.
	fields := func(path []string, typ string, n *Map) map[string]bool {
		var set map[string]bool
		params, _ := n.vals[parametersKey].(*Map)
		for _, f := range newerFields[typ] {
			if v, ok := n.vals[f]; ok && v != nil && !filledBy(params, f, v) && !runs(typ, f, n) {
				note(path, typ, f, n)
				if set == nil {
					set = map[string]bool{}
				}
				set[f] = true
			}
		}
		return set
	}
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch v := v.(type) {
		case *Map:
			ts, _ := v.vals["type"].(string)
			var noted map[string]bool
			switch {
			case newerTypes[ts] || (ts == "StateDelegatingStream" && (len(path) != 2 || path[0] != "streams")):
				note(path, ts, "", v)
				return
			case ts != "" && isComponentType(ts):
				noted = fields(path, ts, v)
			case ts != "" && len(path) > 0:
				return // a JSON schema or plain data
			}
			for _, k := range v.Keys() {
				if k != parametersKey && !noted[k] {
					walk(v.vals[k], append(path, k))
				}
			}
		case []any:
			for i, e := range v {
				walk(e, append(path, strconv.Itoa(i)))
			}
		}
	}
	noted := fields(nil, "DeclarativeSource", root)
	for _, k := range root.Keys() {
		if builtSections[k] && !noted[k] {
			walk(root.vals[k], []string{k})
		}
	}
	return out
}

// filledBy reports whether the value v of field f is the one parameter f
// of params gave it.
func filledBy(params *Map, f string, v any) bool {
	if params == nil {
		return false
	}
	p, ok := params.vals[f]
	return ok && reflect.DeepEqual(plain(p), plain(v))
}

// runs reports whether the engine runs field f of the component n of
// type typ as the newer CDK does: an HttpRequester's url where it has no
// url_base (with one, CDK 7.28.2 requests url_base and path, and strips
// url from next-page URLs: not built), and a RequestOption's field_path
// beside a field_name (CDK 6.31.1 injects the field_name, CDK 7.28.2
// refuses the pair; source-workable has it).
func runs(typ, f string, n *Map) bool {
	switch typ + "." + f {
	case "HttpRequester.url":
		return !n.Has("url_base")
	case "RequestOption.field_path":
		return truthy(n.vals["field_name"])
	}
	return false
}
