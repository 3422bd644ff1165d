print("ntt")
