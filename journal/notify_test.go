package journal

import (
	"context"
	"testing"
	"time"
)

func notifIDs(ns []Notification) []int64 {
	var ids []int64
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	return ids
}

// Undelivered notifications: recorded, claimed by one process at a time,
// due by their NextAt, released with their attempts, capped per webhook,
// dropped when old or their webhook is gone.
func TestNotifications(t *testing.T) { forBackends(t, testNotifications) }

func testNotifications(t *testing.T) {
	ctx := context.Background()
	path := tempTarget(t)
	j := openT(t, path)
	other := openT(t, path) // another process on the same journal

	var ns []Notification
	for i := range 4 {
		ns = append(ns, Notification{Webhook: "a", RunID: int64(i + 1), Body: []byte(`{"run_id":1}`), CreatedAt: base.Add(time.Duration(i) * time.Minute), Attempts: 2, LastError: "HTTP 500"})
	}
	ns = append(ns, Notification{Webhook: "b", RunID: 9, Body: []byte("x"), CreatedAt: base, NextAt: base.Add(time.Hour)})
	dropped, err := j.AddNotifications(ctx, ns, 3)
	if err != nil || dropped != 1 {
		t.Fatalf("add: dropped %d, %v", dropped, err)
	}
	all, err := other.Notifications(ctx)
	if err != nil || len(all) != 4 || all[0].RunID != 2 || string(all[0].Body) != `{"run_id":1}` || all[0].Attempts != 2 || all[0].LastError != "HTTP 500" || !all[0].CreatedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("after add (the oldest of a beyond 3 dropped): %+v %v", all, err)
	}

	now := base.Add(2 * time.Minute)
	got, err := j.ClaimNotifications(ctx, []string{"a", "b"}, now, now.Add(time.Minute), false)
	if err != nil || len(got) != 3 || got[0].Webhook != "a" {
		t.Fatalf("claim (b is not due): %+v %v", got, err)
	}
	if again, err := other.ClaimNotifications(ctx, []string{"a", "b"}, now, now.Add(time.Minute), true); err != nil || len(again) != 1 || again[0].Webhook != "b" {
		t.Fatalf("the other process claims what is claimed: %+v %v", again, err)
	}
	// Released with one more attempt, due later; the rest delivered.
	got[0].Attempts, got[0].LastError, got[0].NextAt = 3, "timed out", now.Add(10*time.Minute)
	if err := j.UpdateNotifications(ctx, got[:1]); err != nil {
		t.Fatal(err)
	}
	if err := j.DeleteNotifications(ctx, notifIDs(got[1:])); err != nil {
		t.Fatal(err)
	}
	if c, _ := other.ClaimNotifications(ctx, []string{"a"}, now, now.Add(time.Minute), false); len(c) != 0 {
		t.Errorf("claimed before it is due: %+v", c)
	}
	c, err := other.ClaimNotifications(ctx, []string{"a"}, now.Add(11*time.Minute), now.Add(12*time.Minute), false)
	if err != nil || len(c) != 1 || c[0].Attempts != 3 || c[0].LastError != "timed out" {
		t.Fatalf("claim when due: %+v %v", c, err)
	}
	if err := other.UpdateNotifications(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A claim that expired (its process died) is taken again.
	if c, _ := j.ClaimNotifications(ctx, []string{"b"}, now.Add(2*time.Hour), now.Add(3*time.Hour), false); len(c) != 1 {
		t.Errorf("expired claim not taken: %+v", c)
	}

	// Dropped when older than a day; a claimed one is left to its
	// process.
	if _, err := j.AddNotifications(ctx, []Notification{{Webhook: "a", RunID: 20, Body: []byte("new"), CreatedAt: base.Add(25 * time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	gone, err := j.DropNotifications(ctx, base.Add(24*time.Hour), now.Add(2*time.Hour))
	if err != nil || len(gone) != 1 || gone[0].RunID != 2 {
		t.Fatalf("drop (b is claimed): %+v %v", gone, err)
	}
	gone, err = j.DropNotifications(ctx, base.Add(26*time.Hour), now.Add(4*time.Hour))
	if err != nil || len(gone) != 2 {
		t.Fatalf("drop: %+v %v", gone, err)
	}
	if left, _ := j.Notifications(ctx); len(left) != 0 {
		t.Errorf("left: %+v", left)
	}
}
