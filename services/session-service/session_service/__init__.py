"""Session service: owns chat sessions, their transcripts, hold and end."""
