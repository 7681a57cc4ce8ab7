//! mlx5 RDMA device discovery: ibdev, netdev, PCI and char devices, ibdev2netdev, RDMA netns, device-plugin resources.
