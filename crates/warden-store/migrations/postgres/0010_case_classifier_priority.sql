-- The priority points a live classifier's score of the case's text added
-- when the case was filed ([classifier] priority_weight), kept apart so a
-- new score replaces the old one instead of adding to it.
ALTER TABLE cases ADD COLUMN classifier_priority BIGINT NOT NULL DEFAULT 0;
