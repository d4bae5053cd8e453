"""Operating the deployment: metrics, structured logs, per-tenant usage and limits, backups.

Nothing here is a pillar's: these modules watch and bound what every request and job does.
"""
