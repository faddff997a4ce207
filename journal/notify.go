package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Notification is a webhook notification that could not be delivered
// (docs/notify.md#undelivered): kept for a later run to send.
type Notification struct {
	ID int64
	// Webhook is the webhook's key (config.Webhook.Key): no URL, no
	// secret.
	Webhook   string
	RunID     int64
	Body      []byte // the request body, exactly
	CreatedAt time.Time
	Attempts  int    // delivery attempts so far
	LastError string // why the last attempt failed (secrets redacted)
	NextAt    time.Time
}

// maxClaim bounds how many notifications one ClaimNotifications takes.
const maxClaim = 1000

// AddNotifications records notifications that could not be delivered.
// Each webhook keeps at most keep of them (keep > 0): the oldest beyond
// are deleted, and how many is returned.
func (j *Journal) AddNotifications(ctx context.Context, ns []Notification, keep int) (dropped int, err error) {
	if len(ns) == 0 {
		return 0, nil
	}
	if err := j.live(); err != nil {
		return 0, fmt.Errorf("journal: add notifications: %w", err)
	}
	var hooks []string
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		for _, n := range ns {
			if n.Webhook == "" || n.CreatedAt.IsZero() {
				return fmt.Errorf("%w: notification without a webhook or a time", ErrInvalid)
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO notifications (webhook, run_id, body, created_at, attempts, last_error, next_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				n.Webhook, n.RunID, n.Body, unixNano(n.CreatedAt), n.Attempts, n.LastError, zeroNano(n.NextAt)); err != nil {
				return err
			}
			if !slices.Contains(hooks, n.Webhook) {
				hooks = append(hooks, n.Webhook)
			}
		}
		if keep <= 0 {
			return nil
		}
		for _, h := range hooks {
			res, err := tx.ExecContext(ctx, `
				DELETE FROM notifications WHERE webhook = ?1 AND id NOT IN (
					SELECT id FROM notifications WHERE webhook = ?1 ORDER BY id DESC LIMIT ?2)`, h, keep)
			if err != nil {
				return err
			}
			dropped += int(rowsAffected(res))
		}
		return nil
	})
	if err != nil {
		return 0, wrap("add notifications", err)
	}
	return dropped, nil
}

// ClaimNotifications takes, until until, the undelivered notifications of
// the given webhooks that no other process has claimed, oldest first: only
// those due at now (NextAt) unless all. Claimed rows are skipped by other
// processes until the claim is released (UpdateNotifications,
// DeleteNotifications) or expires, so that two runs at once do not send
// one notification twice.
func (j *Journal) ClaimNotifications(ctx context.Context, webhooks []string, now, until time.Time, all bool) ([]Notification, error) {
	if len(webhooks) == 0 {
		return nil, nil
	}
	if err := j.live(); err != nil {
		return nil, fmt.Errorf("journal: claim notifications: %w", err)
	}
	list, err := json.Marshal(webhooks)
	if err != nil {
		return nil, fmt.Errorf("journal: claim notifications: %w", err)
	}
	due := unixNano(now)
	if all {
		due = 1<<63 - 1
	}
	var out []Notification
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanNotifications(tx.QueryContext(ctx, `
			UPDATE notifications SET claimed_until = ?1
			WHERE id IN (SELECT id FROM notifications
				WHERE webhook IN (SELECT value FROM json_each(?2)) AND claimed_until < ?3 AND next_at <= ?4
				ORDER BY id LIMIT ?5)
			RETURNING `+notificationCols,
			unixNano(until), string(list), unixNano(now), due, maxClaim))
		return err
	})
	if err != nil {
		return nil, wrap("claim notifications", err)
	}
	slices.SortFunc(out, func(a, b Notification) int { return int(a.ID - b.ID) })
	return out, nil
}

// UpdateNotifications records, for claimed notifications that are still
// undelivered, their Attempts, LastError and NextAt, and releases them.
func (j *Journal) UpdateNotifications(ctx context.Context, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	if err := j.live(); err != nil {
		return fmt.Errorf("journal: update notifications: %w", err)
	}
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		for _, n := range ns {
			if _, err := tx.ExecContext(ctx, `
				UPDATE notifications SET attempts = ?, last_error = ?, next_at = ?, claimed_until = 0 WHERE id = ?`,
				n.Attempts, n.LastError, zeroNano(n.NextAt), n.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("update notifications", err)
}

// DeleteNotifications deletes notifications: delivered, or given up.
func (j *Journal) DeleteNotifications(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := j.live(); err != nil {
		return fmt.Errorf("journal: delete notifications: %w", err)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("journal: delete notifications: %w", err)
	}
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))`, string(list))
		return err
	})
	return wrap("delete notifications", err)
}

// DropNotifications deletes the notifications created before before that
// nobody has claimed at now, and returns them. (Those of a webhook no
// longer configured are never claimed: they go this way too.)
func (j *Journal) DropNotifications(ctx context.Context, before, now time.Time) ([]Notification, error) {
	if err := j.live(); err != nil {
		return nil, fmt.Errorf("journal: drop notifications: %w", err)
	}
	var out []Notification
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanNotifications(tx.QueryContext(ctx, `
			DELETE FROM notifications WHERE claimed_until < ?1 AND created_at < ?2
			RETURNING `+notificationCols,
			unixNano(now), unixNano(before)))
		return err
	})
	if err != nil {
		return nil, wrap("drop notifications", err)
	}
	slices.SortFunc(out, func(a, b Notification) int { return int(a.ID - b.ID) })
	return out, nil
}

// Notifications returns every undelivered notification, oldest first.
func (j *Journal) Notifications(ctx context.Context) ([]Notification, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("notifications", err)
	}
	out, err := scanNotifications(j.r.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications ORDER BY id`))
	return out, wrap("notifications", err)
}

// notificationCols are what scanNotifications reads.
const notificationCols = `id, webhook, run_id, body, created_at, attempts, last_error, next_at`

// scanNotifications reads the rows of a query of notificationCols.
func scanNotifications(rows *sql.Rows, err error) ([]Notification, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// zeroNano is unixNano with the zero time as 0 (due at once).
func zeroNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func scanNotification(s interface{ Scan(...any) error }) (Notification, error) {
	var (
		n               Notification
		created, nextAt int64
	)
	if err := s.Scan(&n.ID, &n.Webhook, &n.RunID, &n.Body, &created, &n.Attempts, &n.LastError, &nextAt); err != nil {
		return n, err
	}
	n.CreatedAt = fromNano(created)
	if nextAt != 0 {
		n.NextAt = fromNano(nextAt)
	}
	return n, nil
}
