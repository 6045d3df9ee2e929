"""Queue manager: owns the waiting queues, operator capacity and fair routing of visitors."""
