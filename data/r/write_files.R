# Writes R's own files in data/r/ from R's datasets package (run once: Rscript data/r/write_files.R);
# data/r/write_files.py writes the other new formats from these.
setwd(commandArgs(trailingOnly = FALSE) |> grep(pattern = "^--file=", value = TRUE) |> sub(pattern = "^--file=", replacement = "") |> dirname())
saveRDS(warpbreaks, "warpbreaks.rds")
save(esoph, file = "esoph.rda")
save(InsectSprays, esoph, file = "InsectSprays_esoph.RData")
