-- What one operator moved today without a checker (four-eyes cannot be dodged by
-- splitting an amount below the threshold).
CREATE INDEX transfers_posted_by ON transfers (posted_by, posted_at);
