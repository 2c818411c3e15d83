-- Teams and who minted each API token.
--
-- A user's teams (a JSON array of team codes, sorted) decide, with their
-- role, which restricted queues admit them: they see those queues' cases
-- only when admitted. A token records who minted it (a user's name, or
-- `system` for the command line and the demo), so that "who minted it,
-- who used it" is answerable; tokens made before this migration have none.
ALTER TABLE users ADD COLUMN teams TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN minted_by TEXT;
