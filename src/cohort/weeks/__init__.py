"""The weekly modules: the week contract, preparing data, starter kernels, the lab-quake simulator."""
