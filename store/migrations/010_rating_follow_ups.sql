-- The follow-up of each bad rating (差评), projected from its workflow (workflows/rating_follow_up.py)
-- so that the API and the supervision page read it without Temporal. An older version of the view
-- never overwrites a newer one. No personal data: the rater is known to the rating only.
CREATE TABLE rating_follow_ups (
    rating_id             text PRIMARY KEY,
    application_id        text NOT NULL,
    district              text NOT NULL,
    status                text NOT NULL,
    warning_level         text NOT NULL DEFAULT 'none',
    appeal                text,
    rated_at              timestamptz NOT NULL,
    callback_due_on       date,
    rectification_due_on  date,
    callback_at           timestamptz,
    answered_at           timestamptz,
    view                  jsonb NOT NULL,
    version               integer NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rating_follow_ups_open ON rating_follow_ups (district, rectification_due_on, rating_id)
    WHERE status IN ('awaiting_callback', 'awaiting_rectification');
CREATE INDEX rating_follow_ups_by_application ON rating_follow_ups (application_id);
