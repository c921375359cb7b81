"""The Intacct client: the hook, its sessions, paging reads, write batches, XML and errors."""
