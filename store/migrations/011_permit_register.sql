-- The register of permits (在册运输证): each permit's state as its lifecycle workflow projects it.
-- The plate is stored masked; the holder by the subject of their sign-in only.
CREATE TABLE permit_register (
    number              text PRIMARY KEY,
    application_id      uuid NOT NULL,
    holder_subject      text NOT NULL,
    plate_masked        text NOT NULL,
    district            text NOT NULL,
    state               text NOT NULL CHECK (state IN ('valid', 'review_due', 'lapsed', 'cancelled')),
    ended               text,
    issued_on           date NOT NULL,
    valid_until         date NOT NULL,
    next_review_due_on  date,
    mileage_km          integer NOT NULL DEFAULT 0,
    regulator_pending   boolean NOT NULL DEFAULT false,
    version             bigint NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX permit_register_by_district ON permit_register (district, state, valid_until, number);
CREATE INDEX permit_register_by_valid_until ON permit_register (valid_until, number);
CREATE INDEX permit_register_by_holder ON permit_register (holder_subject);
