"""The pipeline after intake: understanding, stories, incident candidates, releases, notices."""
