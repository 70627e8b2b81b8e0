package declarative

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/x/goairbyte/declarative/internal/interpolation"
	"github.com/x/goairbyte/declarative/internal/manifest"
	"github.com/x/goairbyte/protocol"
)

// The AsyncRetriever (retrievers/async_retriever.py, async_job/ and
// requesters/http_job_repository.py in the CDK 6.31.1): each slice of the
// stream becomes a job on the API. The creation requester starts it, the
// polling requester asks for its status every 5 seconds until the status
// extractor's value maps to completed, failed or timeout, and the urls
// extractor lists what to download from the last poll (or from the
// url_requester's response, given stream_slice['polling_job_response']);
// each url is then
// read with the download requester and extractor, and the records go
// through the download selector's transformations, then through the
// stream's record selector (filter, transformations, normalisation: the
// CDK applies the transformations in both).
//
// Kept from the CDK's orchestrator: one job at a time (its JobTracker(1));
// a job failed, timed out by the API, or not started because its creation
// failed with an error that is not a config error, is started again, 3
// attempts in all, after which the stream fails with a config error once
// the other slices are read; a job running for more than 60 minutes counts
// as timed out; a config error (a 401 or 403 with the default error
// handler) ends the stream at once. The creation response is the
// stream_slice['create_job_response'] the polling requester sees (a
// requests.Response: .json(), .status_code, .text, .url), and the download
// requester sees stream_slice.extra_fields['url']. The abort_requester is
// sent for a job the API timed out (a failure only logged), the
// delete_requester once a job's downloads are read (a failure fails the
// stream).
//
// Not kept, where the CDK loops without end or without waiting: a status
// that status_mapping does not list, or a poll that fails with an error
// other than a config error, is in the CDK an error the orchestrator
// collects before polling again at once, without the 5 s wait, until the
// job times out after 60 minutes, three times over; here it ends the
// stream (the running job aborted), with the CDK's message for the status.
// A job whose 60 minutes run out during the wait at its last attempt makes
// the CDK raise on every later round; here it fails as one found after the
// polls. Not built, and refused: download_paginator, a partition_router,
// an incremental_sync, and an AsyncRetriever stream read as a parent.

// Defaults of the CDK's orchestrator and job.
const (
	// asyncPollInterval is AsyncJobOrchestrator's wait between two rounds
	// of status updates.
	asyncPollInterval = 5 * time.Second
	// asyncJobTimeout is AsyncJob's timeout without job_timeout, which the
	// factory of 6.31.1 never passes.
	asyncJobTimeout = 60 * time.Minute
	// asyncMaxAttempts is AsyncPartition's attempts per job.
	asyncMaxAttempts = 3
)

// asyncStatus is AsyncJobStatus.
type asyncStatus int

const (
	asyncRunning asyncStatus = iota
	asyncCompleted
	asyncFailed
	asyncTimedOut
)

func (s asyncStatus) terminal() bool { return s != asyncRunning }

// String is the status as the CDK's enum prints in its messages.
func (s asyncStatus) String() string {
	return [...]string{"<AsyncJobStatus.RUNNING: ('RUNNING', False)>", "<AsyncJobStatus.COMPLETED: ('COMPLETED', True)>",
		"<AsyncJobStatus.FAILED: ('FAILED', True)>", "<AsyncJobStatus.TIMED_OUT: ('TIMED_OUT', True)>"}[s]
}

// asyncRetriever is the AsyncRetriever component.
type asyncRetriever struct {
	creation, polling, download *httpRequester
	// url, abort and del are the optional url_requester,
	// abort_requester and delete_requester (nil when absent).
	url, abort, del                *httpRequester
	statusExtractor, urlsExtractor extractor
	// statusMap maps an API status (str() of the extracted value) to the
	// job's status.
	statusMap map[string]asyncStatus
	// csv is a ResponseToFileExtractor download; else downloadExtractor
	// reads the JSON body.
	csv               bool
	downloadExtractor extractor
	// downloadTransform are the stream's transformations, applied to the
	// downloaded records before the stream's selector applies them again.
	downloadTransform []transformation
	// selector is the stream's record selector; its extractor is not used.
	selector *recordSelector
}

// asyncUnbuiltFields are the AsyncRetriever's fields whose behaviour is not
// built here; a manifest setting one is refused.
var asyncUnbuiltFields = []string{"download_paginator", "partition_router"}

// asyncUnbuilt lists what of an AsyncRetriever stream the engine refuses:
// the fields above, and an incremental_sync (the CDK's concurrent cursor
// over jobs).
func asyncUnbuilt(c manifest.Component) []manifest.Component {
	var out []manifest.Component
	switch c.Type {
	case "AsyncRetriever":
		for _, f := range asyncUnbuiltFields {
			if truthyField(c.Node, f) {
				out = append(out, manifest.Component{Path: c.Path + "." + f, Type: c.Type + " " + f, Node: c.Node})
			}
		}
	case "DeclarativeStream":
		if c.Node.Map("retriever").String("type") == "AsyncRetriever" && truthyField(c.Node, "incremental_sync") {
			out = append(out, manifest.Component{Path: c.Path + ".incremental_sync", Type: "AsyncRetriever with incremental_sync", Node: c.Node})
		}
	}
	return out
}

// asyncRetriever builds an AsyncRetriever.
func (b *builder) asyncRetriever(n *manifest.Map, streamName string, streamNode *manifest.Map) (*asyncRetriever, error) {
	r := &asyncRetriever{}
	var err error
	// The JsonDecoder is the default of both and the one decoder built
	// (others are refused by type); ResponseToFileExtractor reads the body
	// whatever the download decoder.
	for _, f := range []string{"decoder", "download_decoder"} {
		if d := n.Map(f); d != nil && d.String("type") != "JsonDecoder" {
			return nil, fmt.Errorf("%s: %s is not built", f, d.String("type"))
		}
	}
	for _, rq := range []struct {
		field    string
		dst      **httpRequester
		optional bool
	}{{"creation_requester", &r.creation, false}, {"polling_requester", &r.polling, false}, {"download_requester", &r.download, false},
		{"url_requester", &r.url, true}, {"abort_requester", &r.abort, true}, {"delete_requester", &r.del, true}} {
		if rq.optional && n.Map(rq.field) == nil {
			continue
		}
		if *rq.dst, err = b.requester(n.Map(rq.field), streamName); err != nil {
			return nil, fmt.Errorf("%s: %w", rq.field, err)
		}
	}
	if r.statusExtractor, err = b.asyncExtractor(n.Map("status_extractor")); err != nil {
		return nil, fmt.Errorf("status_extractor: %w", err)
	}
	if r.urlsExtractor, err = b.asyncExtractor(n.Map("urls_extractor")); err != nil {
		return nil, fmt.Errorf("urls_extractor: %w", err)
	}
	if de := n.Map("download_extractor"); de != nil && de.String("type") == "ResponseToFileExtractor" {
		r.csv = true
	} else if de != nil {
		if r.downloadExtractor, err = b.asyncExtractor(de); err != nil {
			return nil, fmt.Errorf("download_extractor: %w", err)
		}
	} else {
		r.downloadExtractor = &dpathExtractor{}
	}
	r.statusMap = map[string]asyncStatus{}
	sm := n.Map("status_mapping")
	if sm == nil {
		return nil, fmt.Errorf("status_mapping: missing")
	}
	for _, k := range []struct {
		name   string
		status asyncStatus
	}{{"running", asyncRunning}, {"completed", asyncCompleted}, {"failed", asyncFailed}, {"timeout", asyncTimedOut}} {
		for _, s := range sm.List(k.name) {
			api := interpolation.Str(fromManifest(s))
			if _, dup := r.statusMap[api]; dup {
				return nil, fmt.Errorf("API status %s is already set for CDK status %s. Please ensure API statuses are only provided once", api, k.name)
			}
			r.statusMap[api] = k.status
		}
	}
	// One list for both steps, as the CDK's create_async_retriever hands
	// the same transformations to the download selector and the stream's:
	// a transformation keeps no state between records, so the same
	// instances serve both.
	for _, e := range streamNode.List("transformations") {
		t, err := b.transformation(e.(*manifest.Map))
		if err != nil {
			return nil, fmt.Errorf("transformations: %w", err)
		}
		r.downloadTransform = append(r.downloadTransform, t)
	}
	if r.selector, err = b.selector(n.Map("record_selector"), r.downloadTransform, streamNode); err != nil {
		return nil, fmt.Errorf("record_selector: %w", err)
	}
	r.selector.extractor = asIs{}
	return r, nil
}

// asyncExtractor builds a DpathExtractor (the one extractor type the
// AsyncRetriever's extractors may be besides custom ones).
func (b *builder) asyncExtractor(n *manifest.Map) (extractor, error) {
	if n == nil {
		return nil, fmt.Errorf("missing")
	}
	if n.String("type") != "DpathExtractor" {
		return nil, fmt.Errorf("unsupported extractor %q", n.String("type"))
	}
	de := &dpathExtractor{}
	for _, p := range n.List("field_path") {
		t, err := b.compileValue(p, paramsOf(n), "field_path")
		if err != nil {
			return nil, err
		}
		de.path = append(de.path, t)
	}
	return de, nil
}

// asIs is the extractor of records already extracted: the CDK's
// filter_and_transform, which the AsyncRetriever calls on its selector.
type asIs struct{}

func (asIs) extract(body value, _ *vars) ([]value, error) { return []value{body}, nil }

// asyncJob is AsyncJob with the responses the job repository keeps for it.
type asyncJob struct {
	id      string
	slice   *streamSlice
	created *response // the creation response (nil: the job could not start)
	polled  *response // the poll that found it completed
	status  asyncStatus
	// The job's timer: started, and stopped at a terminal status (zero:
	// running); timeout zero is none (a job that could not start).
	started, stopped time.Time
	timeout          time.Duration
	attempt          int
}

// current is the job's status, TIMED_OUT once its timer ran past the
// timeout (AsyncJob.status).
func (j *asyncJob) current(now time.Time) asyncStatus {
	if j.timeout > 0 {
		end := j.stopped
		if end.IsZero() {
			end = now
		}
		if end.Sub(j.started) > j.timeout {
			return asyncTimedOut
		}
	}
	return j.status
}

// update is AsyncJob.update_status.
func (j *asyncJob) update(s asyncStatus, now time.Time) {
	if j.status != asyncRunning && s == asyncRunning {
		j.started, j.stopped = now, time.Time{}
	} else if s.terminal() && j.stopped.IsZero() {
		j.stopped = now
	}
	j.status = s
}

// asyncPartition is a completed job handed to the workers in its slice.
type asyncPartition struct {
	job *asyncJob
}

// asyncJobsError ends a stream whose jobs did not all complete: the CDK's
// config error with no message (the generic words) and the collected
// errors as its internal message.
type asyncJobsError struct{ internal string }

func (e *asyncJobsError) Error() string { return e.internal }

// asyncRun is one read of an AsyncRetriever stream (the orchestrator).
type asyncRun struct {
	r      *asyncRetriever
	rc     *readContext
	stream string
	seq    int
	// errs are the errors that did not end the loop at once.
	errs []string
}

// partitions runs the jobs of the stream's one slice (the engine builds no
// partition router for an AsyncRetriever) and hands each completed one to
// yield, as the CDK's AsyncJobPartitionRouter.stream_slices does.
func (r *asyncRetriever) partitions(ctx context.Context, rc *readContext, stream string, yield func(*streamSlice) error) error {
	o := &asyncRun{r: r, rc: rc, stream: stream}
	pending := []*streamSlice{newSlice(nil, nil)}
	var running *asyncJob // the one job the tracker allows
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Start: the failed or timed-out job again, else the next slice.
		if running != nil && o.exhausted(running) {
			running = nil
		}
		if running != nil {
			if s := running.current(rc.src.opts.now()); s == asyncFailed || s == asyncTimedOut {
				job, err := o.start(ctx, running.slice, running.attempt+1)
				if err != nil {
					return err
				}
				running = job
			}
		} else if len(pending) > 0 {
			job, err := o.start(ctx, pending[0], 1)
			if err != nil {
				return err
			}
			pending, running = pending[1:], job
		}
		if running == nil && len(pending) == 0 {
			break
		}
		if err := o.poll(ctx, running); err != nil {
			if ctx.Err() == nil {
				o.abortJob(ctx, running)
			}
			return err
		}
		switch s := running.current(rc.src.opts.now()); {
		case o.exhausted(running):
			running = nil
		case s == asyncTimedOut:
			// Started again at the next round, after the API is told.
			o.abortJob(ctx, running)
		case s == asyncCompleted:
			job := running
			running = nil
			slice := newSlice(job.slice.partition, job.slice.cursor)
			slice.async = &asyncPartition{job: job}
			if err := yield(slice); err != nil {
				return err
			}
		}
		if err := rc.src.opts.sleep(ctx, asyncPollInterval); err != nil {
			return err
		}
	}
	if len(o.errs) > 0 {
		return &asyncJobsError{internal: strings.Join(o.errs, "\n")}
	}
	return nil
}

// exhausted reports whether job failed or timed out at its last attempt,
// and then keeps the CDK's error for it. (The CDK checks this after the
// polls; a job its own timer times out during the wait that follows is
// found at the next round's start, where the CDK raises, at its last
// attempt, an error on every round without waiting: here the job ends as
// if found after the polls.)
func (o *asyncRun) exhausted(job *asyncJob) bool {
	s := job.current(o.rc.src.opts.now())
	if (s != asyncFailed && s != asyncTimedOut) || job.attempt < asyncMaxAttempts {
		return false
	}
	if s == asyncTimedOut {
		o.abortJob(context.Background(), job)
	}
	o.errs = append(o.errs, fmt.Sprintf("AirbyteTracedException(%s)", interpolation.Repr(fmt.Sprintf(
		"At least one job could not be completed for slice %s. Job statuses were: {%s: %s}. See warning logs for more information.",
		interpolation.Repr(job.slice.value), interpolation.Repr(job.id), s))))
	return true
}

// abortJob tells the API to stop a job with the abort_requester, if any
// (AsyncHttpJobRepository.abort); as the CDK, a failure is only logged.
func (o *asyncRun) abortJob(ctx context.Context, job *asyncJob) {
	if o.r.abort == nil || job.created == nil {
		return
	}
	v := jobVars(o.rc, jobSlice("create_job_response", job.created))
	if _, err := sendJobRequest(ctx, o.rc, o.r.abort, v); err != nil {
		o.rc.logf("could not abort job %s: %s", job.id, o.rc.mask.text(err.Error()))
	}
}

// breaking is the orchestrator's test for an error that ends the stream
// at once: a config error.
func breaking(err error) bool {
	var he *httpError
	return errors.As(err, &he) && he.FailureType == protocol.FailureConfig
}

// start creates a job for slice (AsyncHttpJobRepository.start). A
// creation that fails with an error that is not a config error gives a
// failed job, after a TRACE ERROR, so that it is retried as one.
func (o *asyncRun) start(ctx context.Context, slice *streamSlice, attempt int) (*asyncJob, error) {
	o.seq++
	now := o.rc.src.opts.now()
	job := &asyncJob{id: "job-" + strconv.Itoa(o.seq), slice: slice, started: now, timeout: asyncJobTimeout, attempt: attempt}
	v := jobVars(o.rc, slice.value)
	resp, err := sendJobRequest(ctx, o.rc, o.r.creation, v)
	if err == nil && !resp.ok() {
		err = errors.New("Always expect a response or an exception from creation_requester")
	}
	if err != nil {
		if ctx.Err() != nil || breaking(err) {
			return nil, err
		}
		msg, internal, ft := failureOf(err)
		if msg == "" {
			msg = genericFailure
		}
		if e := o.rc.traceError("", ft, msg, internal); e != nil {
			return nil, e
		}
		job.id += " - Job that could not start"
		job.timeout = 0
		job.update(asyncFailed, now)
		return job, nil
	}
	job.created = resp
	return job, nil
}

// jobVars are the variables of a request about a job: stream_slice the
// slice given, and an empty stream_state (the CDK's job requests see no
// state).
func jobVars(rc *readContext, slice value) *vars {
	v := rc.vars()
	v.set(interpolation.VarStreamSlice, slice)
	v.set(interpolation.VarStreamState, interpolation.NewDict(0))
	return v
}

// sendJobRequest builds and sends one request of requester rq.
func sendJobRequest(ctx context.Context, rc *readContext, rq *httpRequester, v *vars) (*response, error) {
	req, err := rq.build(ctx, rc, v, nil, requestOptions{})
	if err != nil {
		return nil, err
	}
	resp, _, err := rq.send.send(ctx, rc, req, v)
	return resp, err
}

// poll asks for the status of a running job
// (AsyncHttpJobRepository.update_jobs_status).
func (o *asyncRun) poll(ctx context.Context, job *asyncJob) error {
	if job.current(o.rc.src.opts.now()) != asyncRunning {
		return nil
	}
	v := jobVars(o.rc, jobSlice("create_job_response", job.created))
	resp, err := sendJobRequest(ctx, o.rc, o.r.polling, v)
	if err != nil {
		return err
	}
	bodies, err := decodeBody(resp)
	if err != nil {
		return err
	}
	var api value
	if vals, err := o.r.statusExtractor.extract(bodies[0], v); err != nil {
		return err
	} else if len(vals) > 0 {
		api = vals[0]
	}
	status, ok := o.r.statusMap[interpolation.Str(api)]
	if !ok {
		return fmt.Errorf("API status `%s` is unknown. Contact the connector developer to make sure this status is supported.", interpolation.Str(api))
	}
	job.update(status, o.rc.src.opts.now())
	if status == asyncCompleted {
		job.polled = resp
	}
	return nil
}

// jobSlice is the StreamSlice the CDK gives the polling requester: a
// partition of one response.
func jobSlice(key string, resp *response) value {
	items := interpolation.NewDict(1)
	items.Set(key, responseObject(resp))
	return sliceObject(items, interpolation.NewDict(0), interpolation.NewDict(0), interpolation.NewDict(0))
}

// sliceObject is a StreamSlice: a mapping of its partition and cursor
// values, with the attributes partition, cursor_slice and extra_fields.
func sliceObject(items, partition, cursor, extra *dict) value {
	return &interpolation.Object{Class: "StreamSlice", Items: items, Text: interpolation.Repr(items),
		Attrs: map[string]value{"partition": partition, "cursor_slice": cursor, "extra_fields": extra}}
}

// responseObject is a requests.Response as templates see it.
func responseObject(resp *response) value {
	return &interpolation.Object{Class: "Response", Text: "<Response [" + strconv.Itoa(resp.status) + "]>",
		Attrs: map[string]value{"status_code": int64(resp.status), "text": string(resp.body), "url": resp.url, "headers": resp.headersValue()},
		Methods: map[string]func([]value) (value, error){"json": func(args []value) (value, error) {
			if len(args) > 0 {
				return nil, fmt.Errorf("json() takes no positional arguments")
			}
			return decodeJSON(resp.body)
		}}}
}

// readAsyncPartition reads the records of a completed job: each url of
// its last poll, downloaded and extracted, then the stream's selector.
func (r *reader) readAsyncPartition(ctx context.Context, job partitionJob) {
	st := job.run.st
	ar := st.async
	emit := func(rec *dict) error { return r.rc.record(ctx, st.name, rec, nil) }
	if err := ar.readJob(ctx, r.rc, job.slice, emit); err != nil {
		if r.rc.emitErr != nil || ctx.Err() != nil {
			return
		}
		r.fail(job.run, err)
	}
}

// readJob downloads the records of the completed job of slice.
func (r *asyncRetriever) readJob(ctx context.Context, rc *readContext, slice *streamSlice, emit func(*dict) error) error {
	job := slice.async.job
	v := jobVars(rc, slice.value)
	urlResp := job.polled
	if r.url != nil {
		// The urls come from one more request, given the last poll.
		uv := jobVars(rc, jobSlice("polling_job_response", job.polled))
		resp, err := sendJobRequest(ctx, rc, r.url, uv)
		if err != nil {
			return err
		}
		if !resp.ok() {
			return errors.New("Always expect a response or an exception from url_requester")
		}
		urlResp = resp
	}
	polled, err := decodeBody(urlResp)
	if err != nil {
		return err
	}
	urls, err := r.urlsExtractor.extract(polled[0], v)
	if err != nil {
		return err
	}
	// One file for the job's downloads, each written over the last: a CSV
	// download is on disk whole before its first record is read
	// (downloadSpool says why).
	spool := &downloadSpool{}
	defer spool.close()
	for _, u := range urls {
		extra := interpolation.NewDict(1)
		extra.Set("url", u)
		dv := jobVars(rc, sliceObject(job.slice.value, job.slice.partition, job.slice.cursor, extra))
		dv.set(interpolation.VarNextPageToken, nil)
		req, err := r.download.build(ctx, rc, dv, nil, requestOptions{})
		if err != nil {
			return err
		}
		if r.csv {
			req.spool = spool
		}
		resp, _, err := r.download.send.send(ctx, rc, req, dv)
		if err != nil {
			return err
		}
		if !resp.ok() {
			// An ignored error response has no records.
			continue
		}
		// Each record: the download selector's transformations, then the
		// stream's selector.
		each := func(d *dict) error {
			for _, t := range r.downloadTransform {
				if err := t.transform(d, dv); err != nil {
					return err
				}
			}
			out, err := r.selector.selectRecords(ctx, []value{d}, v, nil, nil)
			if err != nil {
				return err
			}
			for _, o := range out {
				if err := emit(o); err != nil {
					return err
				}
			}
			return nil
		}
		if r.csv {
			if err := spool.records(ctx, each); err != nil {
				return err
			}
			continue
		}
		bodies, err := decodeBody(resp)
		if err != nil {
			return err
		}
		for _, b := range bodies {
			recs, err := r.downloadExtractor.extract(b, dv)
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if d, ok := rec.(*dict); ok {
					if err := each(d); err != nil {
						return err
					}
				}
			}
		}
	}
	if r.del != nil {
		// The job's records are read: the API may drop it
		// (AsyncHttpJobRepository.delete); a failure fails the stream.
		dv := jobVars(rc, jobSlice("create_job_response", job.created))
		if _, err := sendJobRequest(ctx, rc, r.del, dv); err != nil {
			return err
		}
	}
	return nil
}

// checkAsync is checkOne for an AsyncRetriever stream: its first completed
// job, and the first record of that job's downloads.
func (s *Source) checkAsync(ctx context.Context, rc *readContext, st *stream) error {
	found := false
	err := st.async.partitions(rc.labelled(ctx, st.name, nil), rc, st.name, func(slice *streamSlice) error {
		found = true
		err := st.async.readJob(rc.labelled(ctx, st.name, slice), rc, slice, func(*dict) error { return errStop })
		if err != nil && !errors.Is(err, errStop) {
			return err
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return s.checkFailure(rc, st, err)
	}
	if !found {
		return &checkError{Message: interpolation.Repr(fmt.Sprintf("Cannot attempt to connect to stream %s - no stream slices were found, likely because the parent stream is empty.", st.name))}
	}
	return nil
}
