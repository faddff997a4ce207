package journal

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
)

func hostNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("web-%02d", i+1)
	}
	return out
}

// Two nodes offer the same due hosts: each host is taken once, the
// fleet's max_concurrency holds over both, a node takes its share and
// then helps, and past max_errors what is taken is to be skipped.
func TestClaim(t *testing.T) { forBackends(t, testClaim) }

func testClaim(t *testing.T) {
	ctx, nodes := newNodes(t, "node-a", "node-b")
	a, b := nodes[0], nodes[1]
	hosts := hostNames(10)
	round := base
	ha, hb := a.Self(1), b.Self(2)
	claim := func(j *Journal, h Holder, req ClaimRequest) ClaimResult {
		t.Helper()
		req.Association, req.Round, req.TTL = "web", round, time.Minute
		if req.Tolerated == 0 {
			req.Tolerated = -1
		}
		res, err := j.Claim(ctx, h, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	r := claim(a, ha, ClaimRequest{Offer: hosts, Want: 4})
	if !slices.Equal(r.Run, hosts[:4]) || r.Examined != 4 || r.Running != 0 {
		t.Fatalf("a's first claim: %+v", r)
	}
	r = claim(b, hb, ClaimRequest{Offer: hosts, Want: 10, FleetLimit: 7})
	if !slices.Equal(r.Run, hosts[4:7]) || r.Running != 4 || r.Examined != 7 {
		t.Fatalf("b's claim under a fleet limit of 7: %+v", r)
	}
	if r = claim(b, hb, ClaimRequest{Offer: hosts[7:], Want: 10, FleetLimit: 7}); !r.Full || len(r.Run) != 0 {
		t.Fatalf("b at the fleet limit: %+v", r)
	}
	// a ends two hosts, one failed: b may take two more.
	r = claim(a, ha, ClaimRequest{Offer: hosts[4:], Want: 0, Ended: []Ended{{"web-01", false}, {"web-02", true}}})
	if !r.Full || r.Running != 5 || r.Failed != 1 {
		t.Fatalf("after a ended two: %+v", r)
	}
	r = claim(b, hb, ClaimRequest{Offer: hosts[7:], Want: 10, FleetLimit: 7})
	if !slices.Equal(r.Run, hosts[7:9]) {
		t.Fatalf("b after two ended: %+v", r)
	}
	// One more failure than max_errors tolerates: the last host is
	// taken to be skipped, and nothing is left for anyone.
	if err := b.Release(ctx, hb, "web", []Ended{{"web-05", true}}); err != nil {
		t.Fatal(err)
	}
	r = claim(a, ha, ClaimRequest{Offer: hosts, Want: 10, Tolerated: 1})
	if len(r.Run) != 0 || !slices.Equal(r.Skip, hosts[9:]) || r.Failed != 2 || r.Examined != 10 {
		t.Fatalf("past max_errors: %+v", r)
	}
	r = claim(b, hb, ClaimRequest{Offer: hosts, Want: 10})
	if len(r.Run)+len(r.Skip) != 0 || r.Examined != 10 {
		t.Fatalf("everything was taken this round: %+v", r)
	}
	// The association changed within the minute: its hosts are due again
	// (those not running).
	hc := b.Self(5)
	r = claim(b, hc, ClaimRequest{Offer: hosts, Want: 10, DefHash: "changed"})
	if !slices.Equal(r.Run, []string{"web-01", "web-02", "web-05", "web-10"}) || len(r.Held) != 6 {
		t.Fatalf("changed definition, same round: %+v", r)
	}
	if err := b.Release(ctx, hc, "web", []Ended{{"web-01", false}, {"web-02", false}, {"web-05", false}, {"web-10", false}}); err != nil {
		t.Fatal(err)
	}

	// The next round: hosts still running (held) are not taken, the
	// others are, once each.
	round = base.Add(time.Minute)
	r = claim(b, b.Self(3), ClaimRequest{Offer: hosts, Want: 10})
	wantRun := []string{"web-01", "web-02", "web-05", "web-10"}
	if !slices.Equal(r.Run, wantRun) || len(r.Held) != 6 || r.Held["web-03"].Node != "node-a" {
		t.Fatalf("next round: run %v, held %v", r.Run, r.Held)
	}
}

// A node takes its share while it runs hosts, then, its share done,
// takes what the others left.
func TestClaimShare(t *testing.T) { forBackends(t, testClaimShare) }

func testClaimShare(t *testing.T) {
	ctx, nodes := newNodes(t, "node-a")
	a := nodes[0]
	hosts := hostNames(9)
	h := a.Self(1)
	req := ClaimRequest{Association: "web", Round: base, TTL: time.Minute, Offer: hosts, Want: 9, Share: 3, Tolerated: -1}
	r, err := a.Claim(ctx, h, req)
	if err != nil || !slices.Equal(r.Run, hosts[:3]) {
		t.Fatalf("first claim: %+v, %v", r, err)
	}
	req.Offer = hosts[3:]
	if r, err = a.Claim(ctx, h, req); err != nil || !r.Full {
		t.Fatalf("share taken, hosts running: %+v, %v", r, err)
	}
	req.Ended = []Ended{{"web-01", false}, {"web-02", false}, {"web-03", false}}
	if r, err = a.Claim(ctx, h, req); err != nil || !slices.Equal(r.Run, hosts[3:]) {
		t.Fatalf("share done: %+v, %v", r, err)
	}
}

// newNodes opens one new journal for t (tempTarget) as each of the
// nodes named, closed when the test ends, and returns them with the
// context the test's calls take (as newT does for one).
func newNodes(t *testing.T, nodes ...string) (context.Context, []*Journal) {
	t.Helper()
	target := tempTarget(t)
	js := make([]*Journal, len(nodes))
	for i, node := range nodes {
		js[i] = openNode(t, target, node)
	}
	return context.Background(), js
}

// openNode opens the journal at target as node.
func openNode(t *testing.T, target, node string) *Journal {
	t.Helper()
	j, err := OpenWith(target, Options{Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// A tick's run on another machine that claimed hosts and died before its
// first heartbeat is alive until its leases expire, and then recovered
// Interrupted: the claim said until when it lives.
func TestClaimKeepsTheRunAlive(t *testing.T) { forBackends(t, testClaimKeepsTheRunAlive) }

func testClaimKeepsTheRunAlive(t *testing.T) {
	ctx, nodes := newNodes(t, "far", "here")
	far, here := nodes[0], nodes[1]
	id, err := far.StartRun(ctx, &Run{Association: "web", Trigger: TriggerSchedule, Mode: ModeApply,
		StartedAt: time.Now(), PID: 4242, Hostname: "far-box"})
	if err != nil {
		t.Fatal(err)
	}
	holder := Holder{PID: 4242, Hostname: "far-box", RunID: id}
	req := ClaimRequest{Association: "web", Round: base, TTL: time.Second, Offer: hostNames(2), Want: 2, Tolerated: -1}
	if r, err := far.Claim(ctx, holder, req); err != nil || len(r.Run) != 2 {
		t.Fatalf("claim: %+v, %v", r, err)
	}
	if ids, err := here.RecoverInterrupted(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("while its leases live: recovered %v, %v", ids, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if ids, err := here.RecoverInterrupted(ctx); err != nil || !slices.Equal(ids, []int64{id}) {
		t.Fatalf("once its leases expired: recovered %v, %v; want [%d]", ids, err, id)
	}
}

// A claim while PostgreSQL is down says the journal cannot be reached
// (Unavailable), for the runner to stop claiming and finish what it
// holds; once it is back, claims go on.
func TestClaimPostgresUnavailable(t *testing.T) {
	srv := pgtest.Start(t)
	j := openNode(t, srv.NewDB(t), "node-a")
	ctx := context.Background()
	req := ClaimRequest{Association: "web", Round: base, TTL: time.Minute, Offer: hostNames(4), Want: 2, Tolerated: -1}
	if r, err := j.Claim(ctx, j.Self(1), req); err != nil || len(r.Run) != 2 {
		t.Fatalf("claim: %+v, %v", r, err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	req.Offer = hostNames(4)[2:]
	if _, err := j.Claim(ctx, j.Self(1), req); !Unavailable(err) {
		t.Fatalf("claim while PostgreSQL is down: %v, want an error saying it cannot be reached", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if r, err := j.Claim(ctx, j.Self(1), req); err != nil || len(r.Run) != 2 {
		t.Fatalf("claim once PostgreSQL is back: %+v, %v", r, err)
	}
}

// With Due, the claim works the share out from the nodes seen: for a node
// of site eu, nine hosts are shared with the node of every site (five
// each), not with the node of site us; the node of every site shares
// them with all three (three each).
func TestClaimShareOfTheNodesSeen(t *testing.T) { forBackends(t, testClaimShareOfTheNodesSeen) }

func testClaimShareOfTheNodesSeen(t *testing.T) {
	ctx, nodes := newNodes(t, "node-a", "node-b", "node-us")
	a, b, us := nodes[0], nodes[1], nodes[2]
	for _, n := range []struct {
		j     *Journal
		sites []string
	}{{a, []string{"eu"}}, {b, nil}, {us, []string{"us"}}} {
		if err := n.j.SeeNode(ctx, n.sites); err != nil {
			t.Fatal(err)
		}
	}
	hosts := hostNames(9)
	req := ClaimRequest{Association: "web", Round: base, TTL: time.Minute, Offer: hosts, Want: 9, Due: 9, Sites: []string{"eu"}, Tolerated: -1}
	r, err := a.Claim(ctx, a.Self(1), req)
	if err != nil || !slices.Equal(r.Run, hosts[:5]) {
		t.Fatalf("a's share of 9 hosts between 2 nodes: %+v, %v", r, err)
	}
	req.Offer, req.Sites = hosts[5:], nil
	r, err = b.Claim(ctx, b.Self(2), req)
	if err != nil || !slices.Equal(r.Run, hosts[5:8]) {
		t.Fatalf("b's share (it runs every site: 3 nodes, 3 hosts each): %+v, %v", r, err)
	}
}
