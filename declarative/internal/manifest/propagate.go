package manifest

const parametersKey = "$parameters"

// defaultTypes gives the component type the CDK assumes for a field of a
// component when the manifest leaves "type" out ("Parent.field" → type).
var defaultTypes = map[string]string{
	"CompositeErrorHandler.error_handlers":           "DefaultErrorHandler",
	"CursorPagination.decoder":                       "JsonDecoder",
	"DatetimeBasedCursor.end_datetime":               "MinMaxDatetime",
	"DatetimeBasedCursor.end_time_option":            "RequestOption",
	"DatetimeBasedCursor.start_datetime":             "MinMaxDatetime",
	"DatetimeBasedCursor.start_time_option":          "RequestOption",
	"CustomIncrementalSync.end_datetime":             "MinMaxDatetime",
	"CustomIncrementalSync.end_time_option":          "RequestOption",
	"CustomIncrementalSync.start_datetime":           "MinMaxDatetime",
	"CustomIncrementalSync.start_time_option":        "RequestOption",
	"DeclarativeSource.check":                        "CheckStream",
	"DeclarativeSource.spec":                         "Spec",
	"DeclarativeSource.streams":                      "DeclarativeStream",
	"DeclarativeStream.retriever":                    "SimpleRetriever",
	"DeclarativeStream.schema_loader":                "JsonFileSchemaLoader",
	"DynamicDeclarativeStream.stream_template":       "DeclarativeStream",
	"DynamicDeclarativeStream.components_resolver":   "ConfigComponentResolver",
	"HttpComponentsResolver.retriever":               "SimpleRetriever",
	"HttpComponentsResolver.components_mapping":      "ComponentMappingDefinition",
	"ConfigComponentsResolver.stream_config":         "StreamConfig",
	"ConfigComponentsResolver.components_mapping":    "ComponentMappingDefinition",
	"DefaultErrorHandler.response_filters":           "HttpResponseFilter",
	"DefaultPaginator.decoder":                       "JsonDecoder",
	"DefaultPaginator.page_size_option":              "RequestOption",
	"DpathExtractor.decoder":                         "JsonDecoder",
	"HttpRequester.error_handler":                    "DefaultErrorHandler",
	"ListPartitionRouter.request_option":             "RequestOption",
	"ParentStreamConfig.request_option":              "RequestOption",
	"ParentStreamConfig.stream":                      "DeclarativeStream",
	"RecordSelector.extractor":                       "DpathExtractor",
	"RecordSelector.record_filter":                   "RecordFilter",
	"SimpleRetriever.paginator":                      "NoPagination",
	"SimpleRetriever.record_selector":                "RecordSelector",
	"SimpleRetriever.requester":                      "HttpRequester",
	"SubstreamPartitionRouter.parent_stream_configs": "ParentStreamConfig",
	"AddFields.fields":                               "AddedFieldDefinition",
	"CustomPartitionRouter.parent_stream_configs":    "ParentStreamConfig",
	"DynamicSchemaLoader.retriever":                  "SimpleRetriever",
	"SchemaTypeIdentifier.types_map":                 "TypesMap",
}

// customTypes gives the type the CDK assumes for a component that names a
// Python class (class_name) without a type.
var customTypes = map[string]string{
	"CompositeErrorHandler.backoff_strategies": "CustomBackoffStrategy",
	"DeclarativeStream.retriever":              "CustomRetriever",
	"DeclarativeStream.transformations":        "CustomTransformation",
	"DefaultErrorHandler.backoff_strategies":   "CustomBackoffStrategy",
	"DefaultPaginator.pagination_strategy":     "CustomPaginationStrategy",
	"HttpRequester.authenticator":              "CustomAuthenticator",
	"HttpRequester.error_handler":              "CustomErrorHandler",
	"RecordSelector.extractor":                 "CustomRecordExtractor",
	"SimpleRetriever.partition_router":         "CustomPartitionRouter",
}

// propagate returns a copy of component with default types filled in and
// $parameters pushed down, following the CDK's ManifestComponentTransformer
// to the letter: a parameter fills a field that is absent or falsy, a
// component's own $parameters override its parent's, a parameter named like
// the field being descended into is not passed into it, and a mapping whose
// type is "object" (a JSON schema) is left alone.
func propagate(fieldID string, component *Map, parent *Map) *Map {
	c := Clone(component).(*Map)
	if !c.Has("type") {
		var t string
		if c.Has("class_name") {
			t = customTypes[fieldID]
		} else {
			t = defaultTypes[fieldID]
		}
		if t != "" {
			c.Set("type", t)
		}
	}
	if t, ok := c.Get("type"); !ok || t == "object" {
		return c
	}
	params := Clone(parent).(*Map)
	if own := c.Map(parametersKey); own != nil {
		for _, k := range own.Keys() {
			v, _ := own.Get(k)
			params.Set(k, v)
		}
	}
	if c.Has(parametersKey) {
		c.Delete(parametersKey)
	}
	for _, k := range params.Keys() {
		v, _ := params.Get(k)
		if cur, ok := c.Get(k); !ok || !truthy(cur) {
			c.Set(k, v)
		}
	}
	typ, _ := c.Get("type")
	for _, field := range c.Keys() {
		value, _ := c.Get(field)
		switch value := value.(type) {
		case *Map:
			excluded, had := params.Get(field)
			params.Delete(field)
			c.Set(field, propagate(pyStr(typ)+"."+field, value, params))
			if had && truthy(excluded) {
				params.Set(field, excluded)
			}
		case []any:
			excluded, had := params.Get(field)
			params.Delete(field)
			for i, e := range value {
				if em, ok := e.(*Map); ok {
					value[i] = propagate(pyStr(typ)+"."+field, em, params)
				}
			}
			if had && truthy(excluded) {
				params.Set(field, excluded)
			}
		}
	}
	if params.Len() > 0 {
		c.Set(parametersKey, params)
	}
	return c
}

// pyStr is str() of a type value as the CDK formats it into a field id.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return keyString(v)
}

// truthy is Python's truth value of a manifest value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case *Map:
		return v.Len() > 0
	}
	return true
}
