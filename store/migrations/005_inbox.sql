-- The clerks' inbox: filters by status, step, channel, warning level, due dates and an
-- exact plate (kept as a digest, never in clear), sorted by due date, paginated stably.
ALTER TABLE applications ADD COLUMN plate_digest text;
DROP INDEX applications_inbox;
DROP INDEX applications_by_decision_due;
CREATE INDEX applications_inbox_submitted ON applications (district, submitted_at DESC, application_id);
CREATE INDEX applications_inbox_status ON applications (district, status, submitted_at DESC, application_id);
CREATE INDEX applications_inbox_decision_due ON applications (district, decision_due_on, application_id)
    WHERE decision_due_on IS NOT NULL;
CREATE INDEX applications_inbox_insurance_due ON applications (district, insurance_due_on, application_id)
    WHERE insurance_due_on IS NOT NULL;
CREATE INDEX applications_inbox_warning ON applications (district, warning_level, decision_due_on, application_id)
    WHERE warning_level <> 'none';
CREATE INDEX applications_inbox_step ON applications (district, step, submitted_at DESC, application_id)
    WHERE step IS NOT NULL;
-- The whole city (a supervisor of 330300): no district filter at all.
CREATE INDEX applications_city_submitted ON applications (submitted_at DESC, application_id);
CREATE INDEX applications_city_decision_due ON applications (decision_due_on, application_id);
CREATE INDEX applications_by_plate ON applications (plate_digest);
