"""The embedded stack: Echomate on one machine with no AWS account (never shipped to Lambda)."""
