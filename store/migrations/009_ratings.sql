-- Service ratings (政务服务"好差评", issue 16): one per application, given by its applicant once it
-- has ended. The rater is the application's applicant; the rating keeps no identity of its own.
CREATE TABLE ratings (
    rating_id          uuid PRIMARY KEY,
    application_id     uuid NOT NULL REFERENCES applications,
    district           text NOT NULL,
    channel            text NOT NULL CHECK (channel IN ('online', 'window')),
    level              smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
    indicators         jsonb NOT NULL,
    indicator_version  text NOT NULL,
    reasons            text[] NOT NULL DEFAULT '{}',
    text               text NOT NULL DEFAULT '',
    rated_at           timestamptz NOT NULL DEFAULT now(),
    -- The follow-up rating (追评), once, after the answer to a bad rating.
    addendum_level     smallint CHECK (addendum_level BETWEEN 1 AND 5),
    addendum_text      text,
    addendum_at        timestamptz,
    -- Voided on appeal by a city supervisor: out of the statistics, kept for the record.
    voided_at          timestamptz,
    voided_by          text,
    void_reason        text,
    -- Once per case, even when two requests race.
    CONSTRAINT ratings_once_per_application UNIQUE (application_id),
    CONSTRAINT ratings_addendum_whole CHECK ((addendum_level IS NULL) = (addendum_at IS NULL)),
    CONSTRAINT ratings_void_whole CHECK ((voided_at IS NULL) = (voided_by IS NULL))
);
CREATE INDEX ratings_by_month ON ratings (district, rated_at);
-- The ended applications of a district and month (the unrated rate).
CREATE INDEX applications_closed ON applications (district, closed_at) WHERE closed_at IS NOT NULL;

-- A rating, once given, is neither changed nor deleted, by any role: only its 追评 is added once, and
-- it is voided once on appeal (out of the figures, kept).
CREATE FUNCTION ratings_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.rating_id, NEW.application_id, NEW.district, NEW.channel, NEW.level, NEW.indicators,
        NEW.indicator_version, NEW.reasons, NEW.text, NEW.rated_at)
       IS DISTINCT FROM (OLD.rating_id, OLD.application_id, OLD.district, OLD.channel, OLD.level, OLD.indicators,
        OLD.indicator_version, OLD.reasons, OLD.text, OLD.rated_at)
       OR (OLD.addendum_at IS NOT NULL AND (NEW.addendum_level, NEW.addendum_text, NEW.addendum_at)
           IS DISTINCT FROM (OLD.addendum_level, OLD.addendum_text, OLD.addendum_at))
       OR (OLD.voided_at IS NOT NULL AND (NEW.voided_at, NEW.voided_by, NEW.void_reason)
           IS DISTINCT FROM (OLD.voided_at, OLD.voided_by, OLD.void_reason)) THEN
        RAISE EXCEPTION 'a rating is not changed once given (only its 追评 is added, or it is voided, once)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ratings_unchanged BEFORE UPDATE ON ratings FOR EACH ROW EXECUTE FUNCTION ratings_unchanged();

CREATE FUNCTION ratings_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a rating is never deleted (a city supervisor voids it on appeal)'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER ratings_kept BEFORE DELETE ON ratings FOR EACH ROW EXECUTE FUNCTION ratings_kept();
CREATE TRIGGER ratings_not_truncated BEFORE TRUNCATE ON ratings FOR EACH STATEMENT EXECUTE FUNCTION ratings_kept();
