"""`eaflow replay`: read a range of a stream, copy it elsewhere, or re-run the processors on
it in a throwaway sandbox and compare the new results with the recorded ones."""
