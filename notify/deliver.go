package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
)

// Delivery policy (docs/notify.md#delivery).
const (
	// Tries is how many attempts one notification gets in one process;
	// between them it waits Backoff, doubled each time, with jitter.
	Tries   = 4
	Backoff = 500 * time.Millisecond
	// Undelivered notifications are tried again by a later run once due:
	// at once by the next run after the first process gave up, then
	// RetryAfter later, doubling with each process that gave up, at most
	// MaxRetryAfter apart; MaxAge after they were made they are dropped,
	// and a webhook keeps at most MaxKept of them.
	RetryAfter    = 30 * time.Second
	MaxRetryAfter = time.Hour
	MaxAge        = 24 * time.Hour
	MaxKept       = 1000
	// claimFor bounds how long a process holds notifications of the
	// journal it is sending (another process takes them after that).
	claimFor = 10 * time.Minute
	// journalWrite bounds each write of what was or was not delivered.
	journalWrite = 5 * time.Second
	// maxErrBody is how much of an error response is read for its message.
	maxErrBody = 512
)

// Options configure a Session.
type Options struct {
	Notify  *config.Notify   // notify.toml; nil: no webhooks
	Journal *journal.Journal // where undelivered notifications are kept
	// Gist sums up what a step found differing, on one line (the CLI
	// passes its own, so that webhooks say what the terminal says);
	// default: the first line.
	Gist func(differ string) string
	// Warnf says what went wrong (always shown); Notef says what went
	// right late (notifications of earlier runs delivered). Both are
	// called only from Start and Close, on their caller's goroutine, so
	// that nothing is printed while the runs print.
	Warnf, Notef func(format string, args ...any)
	// UserAgent of the requests; default "driftless".
	UserAgent string
	// Client sends the requests; default one that follows no redirect.
	Client *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits between attempts; default a timer (tests record it).
	Sleep func(ctx context.Context, d time.Duration)
}

func (o *Options) defaults() {
	if o.Gist == nil {
		o.Gist = func(s string) string { l, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return l }
	}
	if o.Warnf == nil {
		o.Warnf = func(string, ...any) {}
	}
	if o.Notef == nil {
		o.Notef = func(string, ...any) {}
	}
	if o.UserAgent == "" {
		o.UserAgent = "driftless"
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
}

// Session delivers the notifications of one command (or one daemon
// tick): Start sends what earlier runs could not, in the background
// while the runs go on; Send adds the runs' own; Close waits at most
// max_wait for them, then keeps what is left in the journal.
type Session struct {
	o       Options
	parent  context.Context
	ctx     context.Context // cancelled when Close's wait is over
	cancel  context.CancelFunc
	workers map[string]*worker
	wg      sync.WaitGroup
	mu      sync.Mutex
	said    []string // the workers' warnings, for Close to print
}

// warnf keeps a warning of a worker for Close.
func (s *Session) warnf(format string, args ...any) {
	s.mu.Lock()
	s.said = append(s.said, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// Start begins a session: it drops from the journal what is older than
// MaxAge (saying so), and starts sending what is due. It never fails: a
// journal that cannot be written is a warning.
func Start(ctx context.Context, o Options) *Session {
	o.defaults()
	s := &Session{o: o, parent: ctx, workers: map[string]*worker{}}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	var hooks []*config.Webhook
	if o.Notify != nil {
		hooks = o.Notify.Webhooks
	}
	keys := make([]string, len(hooks))
	for i, w := range hooks {
		keys[i] = w.Key()
		s.workers[keys[i]] = s.newWorker(w)
	}
	if len(hooks) == 0 || o.Journal == nil || o.Journal.ReadOnly() {
		// Without webhooks the journal is not touched: what an earlier
		// notify.toml left waits there (dropped after MaxAge once
		// webhooks are back).
		return s
	}
	now := o.Now()
	jctx, cancel := context.WithTimeout(s.ctx, journalWrite)
	defer cancel()
	if gone, err := o.Journal.DropNotifications(jctx, now.Add(-MaxAge), now); err != nil {
		o.Warnf("notify: %v", err)
	} else if len(gone) > 0 {
		o.Warnf("notify: dropped %d undelivered %s older than %v", len(gone), plural(len(gone), "notification"), MaxAge)
	}
	kept, err := o.Journal.ClaimNotifications(jctx, keys, now, now.Add(claimFor), false)
	if err != nil {
		o.Warnf("notify: %v", err)
	}
	for _, n := range kept {
		s.workers[n.Webhook].add(&item{n: n, kept: true})
	}
	return s
}

// Send queues the notifications of runs (finished and recorded) for every
// webhook that wants one of their events.
func (s *Session) Send(runs []Run) {
	if s.o.Notify == nil {
		return
	}
	for _, w := range s.o.Notify.Webhooks {
		b := &builder{w: w, gist: s.o.Gist, secrets: w.Secrets}
		for _, r := range runs {
			body, ok, err := b.body(r)
			if err != nil {
				s.o.Warnf("%v", err)
				continue
			}
			if ok {
				s.workers[w.Key()].add(&item{n: journal.Notification{Webhook: w.Key(), RunID: r.Run.ID, Body: body, CreatedAt: s.o.Now()}})
			}
		}
	}
}

// Close waits until every notification is delivered or given up, or
// max_wait has passed (no wait when the command was interrupted); then
// it stops what is under way and keeps in the journal what was not
// delivered. It says what could not be delivered; it never fails.
func (s *Session) Close() {
	wait := config.DefaultNotifyWait
	if s.o.Notify != nil {
		wait = s.o.Notify.Wait
	}
	if s.parent.Err() != nil {
		wait = 0
	}
	for _, w := range s.workers {
		w.finish()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.cancel()
		<-done
	}
	s.cancel()
	for _, line := range s.said {
		s.o.Warnf("%s", line)
	}
	if s.o.Notify != nil {
		for _, w := range s.o.Notify.Webhooks {
			s.workers[w.Key()].report()
		}
	}
}

// item is one notification to deliver.
type item struct {
	n    journal.Notification
	kept bool // claimed from the journal
}

// worker delivers the notifications of one webhook, in order.
type worker struct {
	s       *Session
	w       *config.Webhook
	mu      sync.Mutex
	queue   []*item
	wake    chan struct{}
	closing bool
	running bool
	// What happened, for report.
	delivered, deliveredKept, undelivered, rejected int
	lastErr                                         string
	down                                            bool
}

func (s *Session) newWorker(w *config.Webhook) *worker {
	return &worker{s: s, w: w, wake: make(chan struct{}, 1)}
}

func (wk *worker) add(it *item) {
	wk.mu.Lock()
	wk.queue = append(wk.queue, it)
	if !wk.running {
		wk.running = true
		wk.s.wg.Add(1)
		go wk.loop()
	}
	wk.mu.Unlock()
	select {
	case wk.wake <- struct{}{}:
	default:
	}
}

func (wk *worker) finish() {
	wk.mu.Lock()
	wk.closing = true
	wk.mu.Unlock()
	select {
	case wk.wake <- struct{}{}:
	default:
	}
}

// next is the next item, waiting for one until the session closes.
func (wk *worker) next() *item {
	for {
		wk.mu.Lock()
		if len(wk.queue) > 0 {
			it := wk.queue[0]
			wk.queue = wk.queue[1:]
			wk.mu.Unlock()
			return it
		}
		closing := wk.closing
		wk.mu.Unlock()
		if closing {
			return nil
		}
		select {
		case <-wk.wake:
		case <-wk.s.ctx.Done():
			wk.mu.Lock()
			empty := len(wk.queue) == 0
			wk.mu.Unlock()
			if empty {
				return nil
			}
		}
	}
}

func (wk *worker) loop() {
	defer wk.s.wg.Done()
	claimedAll := false
	for it := wk.next(); it != nil; it = wk.next() {
		if wk.down || wk.s.ctx.Err() != nil {
			// Not tried: kept with whatever else is queued, in one
			// write.
			wk.keep(append([]*item{it}, wk.drain()...))
			continue
		}
		tries, err := wk.deliver(it)
		var rej *rejectedError
		switch {
		case err == nil:
			wk.done(it)
			if !claimedAll {
				// The endpoint is back: what earlier runs kept for it
				// goes now, due or not.
				claimedAll = true
				wk.claimRest()
			}
		case errors.As(err, &rej):
			wk.rejected++
			wk.lastErr = err.Error()
			wk.s.warnf("notify: %s: the notification of run %d was rejected, not retried: %v", wk.w.Label(), it.n.RunID, err)
			wk.done(it)
		default:
			wk.down = true
			it.n.Attempts += tries
			it.n.LastError = err.Error()
			it.n.NextAt = wk.s.o.Now().Add(retryAfter(it.n.Attempts))
			wk.lastErr = it.n.LastError
			wk.keep(append([]*item{it}, wk.drain()...))
		}
	}
}

// claimRest claims, after a delivery succeeded, what the journal keeps
// for this webhook that was not yet due.
func (wk *worker) claimRest() {
	j := wk.s.o.Journal
	if j == nil || j.ReadOnly() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(wk.s.ctx), journalWrite)
	defer cancel()
	now := wk.s.o.Now()
	more, err := j.ClaimNotifications(ctx, []string{wk.w.Key()}, now, now.Add(claimFor), true)
	if err != nil {
		wk.s.warnf("notify: %v", err)
		return
	}
	wk.mu.Lock()
	kept := make([]*item, len(more))
	for i, n := range more {
		kept[i] = &item{n: n, kept: true}
	}
	wk.queue = append(kept, wk.queue...)
	wk.mu.Unlock()
}

// done records that it is delivered (or given up for good).
func (wk *worker) done(it *item) {
	if !it.kept {
		wk.delivered++
		return
	}
	wk.deliveredKept++
	ctx, cancel := context.WithTimeout(context.WithoutCancel(wk.s.ctx), journalWrite)
	defer cancel()
	if err := wk.s.o.Journal.DeleteNotifications(ctx, []int64{it.n.ID}); err != nil {
		wk.s.warnf("notify: %v", err)
	}
}

// drain takes everything queued.
func (wk *worker) drain() []*item {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	out := wk.queue
	wk.queue = nil
	return out
}

// keep records items in the journal as undelivered: those it claimed
// from the journal are released with their attempts, the others added.
func (wk *worker) keep(items []*item) {
	wk.undelivered += len(items)
	j := wk.s.o.Journal
	if j == nil || j.ReadOnly() {
		return
	}
	var kept, added []journal.Notification
	for _, it := range items {
		if it.kept {
			kept = append(kept, it.n)
		} else {
			added = append(added, it.n)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(wk.s.ctx), journalWrite)
	defer cancel()
	err := j.UpdateNotifications(ctx, kept)
	if err == nil {
		var dropped int
		dropped, err = j.AddNotifications(ctx, added, MaxKept)
		if dropped > 0 {
			wk.s.warnf("notify: %s: dropped the oldest %d undelivered %s: at most %d are kept", wk.w.Label(), dropped, plural(dropped, "notification"), MaxKept)
		}
	}
	if err != nil {
		wk.s.warnf("notify: %s: could not keep %d undelivered %s: %v", wk.w.Label(), len(items), plural(len(items), "notification"), err)
	}
}

// report says what was not delivered, and what was delivered late.
func (wk *worker) report() {
	if wk.deliveredKept > 0 {
		wk.s.o.Notef("notify: %s: delivered %d %s kept from earlier runs", wk.w.Label(), wk.deliveredKept, plural(wk.deliveredKept, "notification"))
	}
	if wk.undelivered > 0 {
		why := wk.lastErr
		switch {
		case why != "":
		case wk.s.parent.Err() != nil:
			why = "not tried: the command was interrupted"
		default:
			why = fmt.Sprintf("not tried within max_wait (%v)", wk.s.o.Notify.Wait)
		}
		where := "kept in the journal for the next run"
		if wk.s.o.Journal == nil || wk.s.o.Journal.ReadOnly() {
			where = "lost: no journal to keep them in"
		}
		wk.s.o.Warnf("notify: %s: %d %s not delivered (%s); %s", wk.w.Label(), wk.undelivered, plural(wk.undelivered, "notification"), why, where)
	}
}

// retryAfter is how long after a process gave up a notification that had
// attempts so far is due again: 0 after the first process (the next run
// tries it), then RetryAfter, doubling, at most MaxRetryAfter.
func retryAfter(attempts int) time.Duration {
	gaveUp := (attempts + Tries - 1) / Tries // processes that tried it
	if gaveUp <= 1 {
		return 0
	}
	return min(RetryAfter<<min(gaveUp-2, 10), MaxRetryAfter)
}

// rejectedError is an answer that trying again will not change (a 4xx
// other than 408, 425 and 429, or a redirect).
type rejectedError struct{ msg string }

func (e *rejectedError) Error() string { return e.msg }

// deliver tries to deliver it up to Tries times, with backoff, and
// returns how many attempts it made and the last error.
func (wk *worker) deliver(it *item) (int, error) {
	var err error
	for try := 1; ; try++ {
		err = wk.attempt(it)
		var rej *rejectedError
		if err == nil || errors.As(err, &rej) || try == Tries || wk.s.ctx.Err() != nil {
			return try, err
		}
		d := Backoff << (try - 1)
		d = d/2 + rand.N(d) // jitter: [d/2, 3d/2)
		wk.s.o.Sleep(wk.s.ctx, d)
		if wk.s.ctx.Err() != nil {
			return try, err
		}
	}
}

// attempt posts the notification once.
func (wk *worker) attempt(it *item) error {
	ctx, cancel := context.WithTimeout(wk.s.ctx, wk.w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wk.w.URL, bytes.NewReader(it.n.Body))
	if err != nil {
		return wk.errorf("%s", errText(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", wk.s.o.UserAgent)
	sum := sha256.Sum256(append([]byte(it.n.Webhook+"\x00"), it.n.Body...))
	req.Header.Set("X-Driftless-Delivery", hex.EncodeToString(sum[:12]))
	for _, h := range wk.w.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := wk.s.o.Client.Do(req)
	if err != nil {
		switch {
		case wk.s.ctx.Err() != nil:
			return wk.errorf("no answer before max_wait (%v) ran out", wk.s.o.Notify.Wait)
		case ctx.Err() != nil:
			return wk.errorf("no answer within %v (timeout)", wk.w.Timeout)
		}
		return wk.errorf("%s", errText(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := "HTTP " + resp.Status
	if text := strings.Join(strings.Fields(string(head)), " "); text != "" {
		msg += ": " + text
	}
	msg = redact(msg, wk.w.Secrets)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return &rejectedError{msg + " (redirects are not followed)"}
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 425 && resp.StatusCode != 429 {
		return &rejectedError{msg}
	}
	return errors.New(msg)
}

// errorf is an error about the webhook, with its secrets redacted.
func (wk *worker) errorf(format string, args ...any) error {
	return errors.New(redact(fmt.Sprintf(format, args...), wk.w.Secrets))
}

// errText is err without the URL that net/http puts in front (it may be
// a credential).
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
