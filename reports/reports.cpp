// The reports library; its units arrive with the journal.
