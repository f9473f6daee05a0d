"""What the benchmarks and the tests stand in for on a machine without it: a W&B server on loopback
(`wandb_endpoint`, its answers in `wandb_standin_api`) and CIFAR's and CIFAR-N's files written in their published
formats (`published_files`, `published_cifar`). Both import them from here: tests may import benchmarks, never the
reverse."""
