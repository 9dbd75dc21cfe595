"""Running the dashboard as several processes behind HAProxy (``python -m deploy.serve``; README, "Deployment")."""
