"""Which of the paper's claim lines a GPU-hour budget buys, and with how many seeds (`repro plan`)."""
