"""Every number the report quotes from the papers, in one place.

MFAS: Pérez-Rúa et al., CVPR 2019 (Tables 1 and 2). DMF: Hu et al. (Tables 1 and 2).
"""

# Paper's unimodal baselines (MFAS Table 2, AV-MNIST test accuracy %).
PAPER_UNIMODAL = {
    ("avmnist", "image"): ("LeNet-3 image only", 74.52),
    ("avmnist", "audio"): ("LeNet-5 spectrogram only", 66.06),
}

# MFAS paper Table 1 (AV-MNIST validation accuracy, 180 architectures each): top-5 mean (std).
PAPER_SEARCH_TABLE1 = {
    "avmnist": {"mfas": (0.9264, 0.0004), "random": (0.9203, 0.0021)},
}

# DMF paper Table 1: test error (%) by input condition, model and right-half damage (%).
PAPER_DMF_TABLE1 = {
    ("both", "emf"): {0: 1.90, 30: 2.60, 50: 4.70, 70: 12.20},
    ("both", "imf"): {0: 1.60, 30: 2.40, 50: 5.40, 70: 10.20},
    ("both", "dmf"): {0: 1.40, 30: 2.30, 50: 4.60, 70: 9.40},
    ("only_right", "emf"): {0: 51.00, 30: 53.50, 50: 63.40, 70: 70.30},
    ("only_right", "imf"): {0: 51.30, 30: 54.30, 50: 63.30, 70: 82.90},
    ("only_right", "dmf"): {0: 39.90, 30: 47.60, 50: 57.10, 70: 67.60},
}
# DMF paper Table 2 (Wiki, a different data set): DMF retrieval mAP.
PAPER_WIKI_MAP = {"I2T": 0.2921, "T2I": 0.5612}

# MFAS paper Table 2 (AV-MNIST test accuracy %) by final-training method; the rows our
# final tables place them beside. (value,) for accuracy.
PAPER_FINAL_AVMNIST = {
    "unimodal_image": (74.52,),
    "unimodal_audio": (66.06,),
    "late_fusion": (87.78,),
    "centralnet": (87.86,),
    "mfas_top1": (88.38,),
}
# MFAS paper Table 3 (MM-IMDB): (weighted F1, macro F1). Text = Maxout MLP, image = VGG.
PAPER_FINAL_MMIMDB = {
    "unimodal_text": (0.5754, 0.4598),
    "unimodal_image": (0.4921, 0.3350),
    "late_fusion": (0.6081, 0.5049),
    "gmu": (0.6170, 0.5410),
    "centralnet": (0.6223, 0.5344),
    "mfas_top1": (0.6250, 0.5568),
}
