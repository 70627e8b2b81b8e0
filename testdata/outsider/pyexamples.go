package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"github.com/x/goairbyte"
	"github.com/x/goairbyte/cache"
	"github.com/x/goairbyte/connector"
	"github.com/x/goairbyte/destination"
	"github.com/x/goairbyte/source"
)

// rickAndMorty is the manifest of PyAirbyte's
// examples/run_declarative_manifest_source.py, its schema cut to what the
// records here hold: the API's characters, paged until its 404 "There is
// nothing here", which a response filter takes as SUCCESS.
const rickAndMorty = `
version: 0.85.0
type: DeclarativeSource
check:
  type: CheckStream
  stream_names:
    - characters
definitions:
  streams:
    characters:
      type: DeclarativeStream
      name: characters
      primary_key:
        - id
      retriever:
        type: SimpleRetriever
        requester:
          $ref: '#/definitions/base_requester'
          path: character/
          http_method: GET
          error_handler:
            type: CompositeErrorHandler
            error_handlers:
              - type: DefaultErrorHandler
                response_filters:
                  - type: HttpResponseFilter
                    action: SUCCESS
                    error_message_contains: There is nothing here
        record_selector:
          type: RecordSelector
          extractor:
            type: DpathExtractor
            field_path:
              - results
        paginator:
          type: DefaultPaginator
          page_token_option:
            type: RequestOption
            inject_into: request_parameter
            field_name: page
          pagination_strategy:
            type: PageIncrement
            start_from_page: 1
      schema_loader:
        type: InlineSchemaLoader
        schema:
          $ref: '#/schemas/characters'
  base_requester:
    type: HttpRequester
    url_base: https://rickandmortyapi.com/api
streams:
  - $ref: '#/definitions/streams/characters'
spec:
  type: Spec
  connection_specification:
    type: object
    $schema: http://json-schema.org/draft-07/schema#
    required: []
    properties: {}
    additionalProperties: true
schemas:
  characters:
    type: object
    $schema: http://json-schema.org/schema#
    properties:
      id:
        type: number
      name:
        type:
          - string
          - 'null'
      status:
        type:
          - string
          - 'null'
    required:
      - id
    additionalProperties: true
`

// rickAndMortyAPI answers as rickandmortyapi.com does: three pages of 20
// characters, then a 404 {"error": "There is nothing here"}. Every request
// reaches it, whatever its host.
type rickAndMortyAPI struct{ asked atomic.Int64 }

func (a *rickAndMortyAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	a.asked.Add(1)
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	if r.URL.Host != "rickandmortyapi.com" || !strings.HasPrefix(r.URL.Path, "/api/character/") || page > 3 {
		rec.WriteHeader(http.StatusNotFound)
		fmt.Fprint(rec, `{"error": "There is nothing here"}`)
		return rec.Result(), nil
	}
	var results []string
	for id := (page-1)*20 + 1; id <= page*20; id++ {
		results = append(results, fmt.Sprintf(`{"id": %d, "name": "Character %d", "status": "Alive"}`, id, id))
	}
	fmt.Fprintf(rec, `{"info": {"count": 60, "pages": 3}, "results": [%s]}`, strings.Join(results, ", "))
	return rec.Result(), nil
}

// pyExamplesJourney ports PyAirbyte's own examples as a team moving its
// scripts would: run_declarative_manifest_source.py line by line into the
// default cache and PostgreSQL, run_perf_test_reads.py's faker into the
// no-op destination with and without a cache, and the two lines whose
// PyAirbyte form is refused here (install_if_missing=False on the faker,
// source_manifest=True), whose errors must say what to write instead.
func pyExamplesJourney(ctx context.Context, dsn string) error {
	// source_manifest_dict = yaml.safe_load(SOURCE_MANIFEST_TEXT)
	var manifest map[string]any
	if err := yaml.Unmarshal([]byte(rickAndMorty), &manifest); err != nil {
		return err
	}
	api := &rickAndMortyAPI{}
	pg, err := goairbyte.NewPostgresCache(ctx, dsn)
	if err != nil {
		return err
	}
	defer pg.Close()
	var line []string
	for _, c := range []struct {
		name  string
		cache *cache.Cache // nil: the default cache, as source.read()
	}{{"duckdb", nil}, {"postgres", pg}} {
		// source = get_source("source-rick-and-morty", config={}, source_manifest=source_manifest_dict)
		src, err := goairbyte.GetSource(ctx, "source-rick-and-morty", connector.WithConfig(map[string]any{}),
			connector.WithManifest(manifest), connector.WithHTTPClient(&http.Client{Transport: api}), connector.WithLogger(logger))
		if err != nil {
			return err
		}
		if err := src.Check(ctx); err != nil {
			return err
		}
		src.SelectAllStreams()
		var opts []source.ReadOption
		if c.cache != nil {
			opts = append(opts, source.UseCache(c.cache))
		}
		res, err := src.Read(ctx, opts...)
		if err != nil {
			return err
		}
		// for name, records in result.streams.items(): print(f"Stream {name}: {len(records)} records")
		streams, err := res.Streams(ctx)
		if err != nil {
			return err
		}
		for _, name := range res.ProcessedStreams() {
			n, err := streams[name].Count(ctx)
			if err != nil {
				return err
			}
			line = append(line, fmt.Sprintf("%s Stream %s: %d records", c.name, name, n))
		}
	}
	fmt.Printf("rick-and-morty: %s, %d requests\n", strings.Join(line, ", "), api.asked.Load())

	// run_perf_test_reads.py -n=5e2 --cache=duckdb --destination=e2e, then --no-cache.
	src, err := goairbyte.GetSource(ctx, "source-faker", connector.WithConfig(map[string]any{"count": 5e2}),
		connector.WithStreams("purchases"), connector.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := src.Check(ctx); err != nil {
		return err
	}
	noop, err := goairbyte.GetDestination(ctx, "destination-noop", connector.WithConfig(map[string]any{}), connector.WithLogger(logger))
	if err != nil {
		return err
	}
	c, err := goairbyte.NewLocalCache(ctx, "", "")
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := src.Read(ctx, source.UseCache(c))
	if err != nil {
		return err
	}
	cached, err := noop.Write(ctx, res)
	if err != nil {
		return err
	}
	piped, err := noop.Write(ctx, src, destination.NoCache())
	if err != nil {
		return err
	}
	fmt.Printf("perf: cached sent %v, piped sent %v\n", cached.RecordsSent, piped.RecordsSent)

	// install_if_missing=False, as run_perf_test_reads.py gives the faker.
	_, err = goairbyte.GetSource(ctx, "source-faker", connector.WithInstallIfMissing(false))
	want(errors.Is(seen(err), goairbyte.ErrInvalidOption) && strings.Contains(err.Error(), `drop it, or run Airbyte's build of the connector with WithDockerImage("") or WithPipURL`),
		"install_if_missing=False on the faker: %v", err)
	// source_manifest=True, as run_pokeapi.py writes it.
	_, err = goairbyte.GetSource(ctx, "source-pokeapi", connector.WithManifest(true))
	want(errors.Is(seen(err), goairbyte.ErrInvalidOption) && strings.Contains(err.Error(), "source_manifest=True give no WithManifest"),
		"source_manifest=True: %v", err)
	return nil
}
