module github.com/AndrewDonelson/strata/strata

go 1.24
