"""Services core offers every plugin: notifications, file storage, delayed and periodic jobs."""
