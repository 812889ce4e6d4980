"""Policy files (`policy/*.yaml`, `O2C_POLICY_DIR`): deadlines, owners and thresholds that policy
owners set as data. Each file has one reader here that reports `FILE:LINE:COL: message`."""
