"""Automation rules: when a lead enters a status or a deal a stage, plan a task or a touch."""
